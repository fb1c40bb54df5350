"""The generator worker: newest inputs first, and a keyframe made stale by a command is dropped."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from live.clock import MonotonicClock
from live.display.compositor import Keyframe
from live.engine.slots import LatestSlot
from live.engine.stats import LogOnce
from live.engine.workers import GeneratorWorker
from live.trajectory import GenTarget
from models.base import CancelCheck, check_cancel

WAIT_S = 5.0


class TileByTile:
    """A generator that paints one tile each time the test lets it, asking ``cancel`` before each.

    Every call reports ``(z[0, 0], cancel given)`` on ``started`` and how it ended on ``ended``.
    """

    name = "tiles"
    z_dim, num_classes, resolution = 4, 3, 8
    class_names = ("a", "b", "c")
    device, dtype = torch.device("cpu"), torch.float32

    def __init__(self, tiles: int = 4) -> None:
        self.tiles = tiles
        self.allowed = threading.Semaphore(0)
        self.started: queue.Queue[tuple[float, bool]] = queue.Queue()
        self.ended: queue.Queue[tuple[float, str]] = queue.Queue()

    def __call__(
        self, z: torch.Tensor, y: torch.Tensor, truncation: float, *, cancel: CancelCheck | None
    ) -> torch.Tensor:
        key = float(z[0, 0])
        self.started.put((key, cancel is not None))
        try:
            for _ in range(self.tiles):
                check_cancel(cancel)
                assert self.allowed.acquire(timeout=WAIT_S), "the test never let a tile paint"
        except BaseException as exc:
            self.ended.put((key, type(exc).__name__))
            raise
        self.ended.put((key, "painted"))
        return torch.full((1, 3, 8, 8), key / 10.0)

    def paint(self, tiles: int) -> None:
        """Let ``tiles`` more tiles paint."""
        for _ in range(tiles):
            self.allowed.release()


def target(key: float, commands: int) -> GenTarget:
    """Generator inputs told apart by ``z[0]``, with a count of command steps."""
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
        onsets=0,
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
    worker = GeneratorWorker(
        generator=gen,
        targets=targets,
        frames=frames,
        clock=clock,
        log_once=LogOnce(logging.getLogger("test"), clock),
    )
    worker.start()
    yield gen, targets, frames, worker
    gen.paint(100)
    worker.stop()


def test_a_command_drops_the_keyframe_in_progress(rig) -> None:
    gen, targets, frames, worker = rig
    targets.put(target(1.0, commands=0))
    assert gen.started.get(timeout=WAIT_S) == (1.0, True)
    gen.paint(2)  # half of it
    targets.put(target(2.0, commands=1))  # an operator's command
    gen.paint(1)  # the next check sees it
    assert gen.ended.get(timeout=WAIT_S) == (1.0, "Cancelled")
    key, cancellable = gen.started.get(timeout=WAIT_S)
    assert key == 2.0 and not cancellable  # never twice in a row
    # A further command while it paints does not drop it.
    targets.put(target(3.0, commands=2))
    gen.paint(4)
    assert gen.ended.get(timeout=WAIT_S) == (2.0, "painted")
    keyframe = _newest(frames, 1)
    assert keyframe.target.z[0] == 2.0
    # The newest inputs come next, and may be dropped again.
    assert gen.started.get(timeout=WAIT_S) == (3.0, True)
    gen.paint(4)
    assert gen.ended.get(timeout=WAIT_S) == (3.0, "painted")
    assert _newest(frames, 2).target.z[0] == 3.0
    assert worker.stats.cancelled == 1 and worker.stats.keyframes == 2
    assert worker.stats.errors == 0


def test_newer_inputs_without_a_command_let_the_keyframe_finish(rig) -> None:
    gen, targets, frames, worker = rig
    targets.put(target(1.0, commands=3))
    assert gen.started.get(timeout=WAIT_S) == (1.0, True)
    gen.paint(1)
    # The music moves on (a newer target, the same commands): the keyframe is still wanted.
    targets.put(replace(target(2.0, commands=3), time_s=0.5))
    gen.paint(3)
    assert gen.ended.get(timeout=WAIT_S) == (1.0, "painted")
    assert _newest(frames, 1).target.z[0] == 1.0
    assert gen.started.get(timeout=WAIT_S) == (2.0, True)
    gen.paint(4)
    assert gen.ended.get(timeout=WAIT_S) == (2.0, "painted")
    assert _newest(frames, 2).target.z[0] == 2.0
    assert worker.stats.cancelled == 0 and worker.stats.keyframes == 2


def _newest(frames: LatestSlot[Keyframe], version: int) -> Keyframe:
    keyframe, got = frames.wait_newer(version - 1, timeout=WAIT_S)
    assert got == version and keyframe is not None
    return keyframe
