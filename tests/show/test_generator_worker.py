"""The generator worker: a keyframe that a command or an onset makes stale is dropped mid-way."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from ganterp.live.core.clock import MonotonicClock
from ganterp.live.core.slots import LatestSlot
from ganterp.live.core.stats import LogOnce
from ganterp.live.display.compositor import Keyframe
from ganterp.live.show.generator_worker import GeneratorWorker
from ganterp.live.trajectory import GenTarget
from ganterp.models.base import CancelCheck, check_cancel

WAIT_S = 5.0


class TileByTile:
    """A generator that paints one tile each time the test lets it, asking ``cancel`` all along.

    Every call reports ``z[0, 0]`` on ``started`` and how it ended on ``ended``.
    """

    name = "tiles"
    z_dim, num_classes, resolution = 4, 3, 8
    class_names = ("a", "b", "c")
    device, dtype = torch.device("cpu"), torch.float32

    def __init__(self, tiles: int = 4) -> None:
        self.tiles = tiles
        self.allowed = threading.Semaphore(0)
        self.started: queue.Queue[float] = queue.Queue()
        self.ended: queue.Queue[tuple[float, str]] = queue.Queue()

    def __call__(
        self, z: torch.Tensor, y: torch.Tensor, truncation: float, *, cancel: CancelCheck | None
    ) -> torch.Tensor:
        key = float(z[0, 0])
        self.started.put(key)
        try:
            deadline = time.monotonic() + WAIT_S
            for _ in range(self.tiles):
                check_cancel(cancel)
                while not self.allowed.acquire(timeout=0.005):  # a tile in progress
                    check_cancel(cancel)
                    assert time.monotonic() < deadline, "the test never let a tile paint"
        except BaseException as exc:
            self.ended.put((key, type(exc).__name__))
            raise
        self.ended.put((key, "painted"))
        return torch.full((1, 3, 8, 8), key / 10.0)

    def paint(self, tiles: int) -> None:
        """Let ``tiles`` more tiles paint."""
        for _ in range(tiles):
            self.allowed.release()


def target(key: float, commands: int, onsets: int = 0) -> GenTarget:
    """Generator inputs told apart by ``z[0]``, with counts of command steps and onsets."""
    return GenTarget(
        z=np.array([key, 0, 0, 0], np.float32),
        y=np.array([1, 0, 0], np.float32),
        truncation=0.5,
        time_s=0.0,
        frame=0,
        source=0,
        category=0,
        upcoming=1,
        alpha=0.0,
        onsets=onsets,
        beats=0,
        inflections=0,
        commands=commands,
    )


@pytest.fixture
def rig():
    gen = TileByTile()
    targets: LatestSlot[GenTarget] = LatestSlot()
    frames: LatestSlot[Keyframe] = LatestSlot()
    clock = MonotonicClock()
    woken: list[float] = []
    worker = GeneratorWorker(
        generator=gen,
        targets=targets,
        frames=frames,
        clock=clock,
        log_once=LogOnce(logging.getLogger("test"), clock),
        on_command_keyframe=lambda: woken.append(float(frames.get()[0].target.z[0])),
    )
    worker.start()
    yield gen, targets, frames, worker, woken
    gen.paint(100)
    worker.stop()


def test_a_command_drops_the_keyframe_in_progress(rig) -> None:
    gen, targets, frames, worker, woken = rig
    targets.put(target(1.0, commands=0))
    assert gen.started.get(timeout=WAIT_S) == 1.0
    gen.paint(2)  # half of it
    targets.put(target(2.0, commands=1))  # an operator's command
    gen.paint(1)  # the next check sees it
    assert gen.ended.get(timeout=WAIT_S) == (1.0, "Cancelled")
    assert gen.started.get(timeout=WAIT_S) == 2.0
    # A further command while it paints does not drop it: never twice in a row.
    targets.put(target(3.0, commands=2))
    gen.paint(4)
    assert gen.ended.get(timeout=WAIT_S) == (2.0, "painted")
    keyframe = _newest(frames, 1)
    assert keyframe.target.z[0] == 2.0
    # The newest inputs come next, and may be dropped again.
    assert gen.started.get(timeout=WAIT_S) == 3.0
    gen.paint(4)
    assert gen.ended.get(timeout=WAIT_S) == (3.0, "painted")
    assert _newest(frames, 2).target.z[0] == 3.0
    assert worker.stats.cancelled == 1 and worker.stats.keyframes == 2
    assert worker.stats.errors == 0
    worker.stop()  # its last call-back has run
    assert woken == [2.0, 3.0]  # each keyframe showing a newer command wakes the display


def test_an_onset_drops_the_keyframe_in_progress(rig) -> None:
    gen, targets, frames, worker, woken = rig
    targets.put(target(1.0, commands=0, onsets=4))
    assert gen.started.get(timeout=WAIT_S) == 1.0
    gen.paint(2)
    targets.put(target(2.0, commands=0, onsets=5))  # a hit in the music
    gen.paint(1)
    assert gen.ended.get(timeout=WAIT_S) == (1.0, "Cancelled")
    assert gen.started.get(timeout=WAIT_S) == 2.0
    # The next hit while it paints does not drop it: never twice in a row.
    targets.put(target(3.0, commands=0, onsets=6))
    gen.paint(4)
    assert gen.ended.get(timeout=WAIT_S) == (2.0, "painted")
    assert _newest(frames, 1).target.z[0] == 2.0
    assert gen.started.get(timeout=WAIT_S) == 3.0
    gen.paint(4)
    assert gen.ended.get(timeout=WAIT_S) == (3.0, "painted")
    assert _newest(frames, 2).target.z[0] == 3.0
    assert worker.stats.cancelled == 1 and worker.stats.keyframes == 2
    worker.stop()
    assert woken == []  # onsets leave the display's early frames to the commands


def test_newer_inputs_without_a_command_let_the_keyframe_finish(rig) -> None:
    gen, targets, frames, worker, woken = rig
    targets.put(target(1.0, commands=3))
    assert gen.started.get(timeout=WAIT_S) == 1.0
    gen.paint(1)
    # The music moves on (a newer target, the same commands and onsets): the keyframe is
    # still wanted.
    targets.put(replace(target(2.0, commands=3), time_s=0.5))
    gen.paint(3)
    assert gen.ended.get(timeout=WAIT_S) == (1.0, "painted")
    assert _newest(frames, 1).target.z[0] == 1.0
    assert gen.started.get(timeout=WAIT_S) == 2.0
    gen.paint(4)
    assert gen.ended.get(timeout=WAIT_S) == (2.0, "painted")
    assert _newest(frames, 2).target.z[0] == 2.0
    assert worker.stats.cancelled == 0 and worker.stats.keyframes == 2
    worker.stop()
    assert woken == [1.0]  # the second keyframe shows no newer command


def test_stopping_ends_the_keyframe_in_progress(rig) -> None:
    gen, targets, _, worker, _ = rig
    targets.put(target(1.0, commands=0))
    assert gen.started.get(timeout=WAIT_S) == 1.0
    gen.paint(1)
    stopper = threading.Thread(target=worker.stop)
    stopper.start()  # the remaining tiles are never painted
    stopper.join(timeout=WAIT_S)
    assert not stopper.is_alive()
    assert gen.ended.get(timeout=WAIT_S) == (1.0, "Cancelled")
    assert worker.stats.cancelled == 0 and worker.stats.errors == 0  # not a dropped keyframe


def _newest(frames: LatestSlot[Keyframe], version: int) -> Keyframe:
    keyframe, got = frames.wait_newer(version - 1, timeout=WAIT_S)
    assert got == version and keyframe is not None
    return keyframe
