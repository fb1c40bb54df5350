"""The control loop: only the commands that repaint are counted as such."""

from __future__ import annotations

import logging

import numpy as np

from ganterp.live.analysis.analyzer import Analyzer
from ganterp.live.audio.ring import AudioRing
from ganterp.live.core.clock import MonotonicClock
from ganterp.live.core.commands import (
    Blackout,
    Command,
    Freeze,
    JumpToCategory,
    LoadPreset,
    LoadPresetSlot,
    NextCategory,
    ReseedZ,
    SavePreset,
    SetCategories,
    SetSetting,
    ShowHud,
    TapTempo,
    repaints,
)
from ganterp.live.core.slots import DropQueue, LatestSlot
from ganterp.live.core.stats import LogOnce
from ganterp.live.settings.schema import Config
from ganterp.live.show.control_loop import ControlLoop
from ganterp.live.trajectory import GenTarget, Trajectory

WAIT_S = 5.0


def test_the_control_loop_counts_only_commands_that_repaint() -> None:
    config = Config()
    ring = AudioRing(48000, 1, 48000)
    clock = MonotonicClock()
    commands: DropQueue[Command] = DropQueue(16)
    targets: LatestSlot[GenTarget] = LatestSlot()
    loop = ControlLoop(
        reader=ring.reader(),
        analyzer=Analyzer(48000, config.analysis, config.inflection),
        trajectory=Trajectory(config.trajectory, z_dim=4, num_classes=10, categories=[1, 2]),
        commands=commands,
        targets=targets,
        state=LatestSlot(),
        events=None,
        clock=clock,
        period_s=0.01,
        log_once=LogOnce(logging.getLogger("test"), clock),
        apply_command=lambda command: not repaints(command),  # the show's own commands
    )

    def step_with(*sent: Command) -> GenTarget:
        for command in sent:
            commands.put(command)
        ring.write(np.zeros((480, 1), np.float32), clock.now())
        loop.step()
        newest, _ = targets.get()
        assert newest is not None
        return newest

    assert step_with().commands == 0
    # Display, analysis and tempo commands leave the picture's inputs as they are.
    assert step_with(SetSetting("display", "brightness", 0.5), Blackout(True)).commands == 0
    assert step_with(SetSetting("inflection", "threshold", 0.02), TapTempo(1.0)).commands == 0
    jumped = step_with(JumpToCategory(7), NextCategory())
    assert jumped.commands == 1 and jumped.category == 2  # one step, however many commands
    assert step_with(SetSetting("trajectory", "truncation", 0.6)).commands == 2
    assert step_with().commands == 2  # the music moves on: the count stays


def test_commands_that_repaint() -> None:
    assert repaints(JumpToCategory(3)) and repaints(NextCategory()) and repaints(ReseedZ())
    assert repaints(LoadPreset("club")) and repaints(LoadPresetSlot(2))
    assert repaints(SetSetting("trajectory", "truncation", 0.5))
    assert repaints(SetSetting("trajectory", "breathe", 1.0))
    assert not repaints(SetSetting("trajectory", "morph_s", 2.0))  # acts from the next hop
    assert not repaints(SetSetting("display", "brightness", 0.5))
    assert not repaints(Blackout(True)) and not repaints(ShowHud(False))
    assert not repaints(Freeze(True)) and not repaints(SetCategories((1, 2)))
    assert not repaints(TapTempo(0.0)) and not repaints(SavePreset("x"))
