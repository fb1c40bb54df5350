"""The generator thread: the newest generator inputs painted into keyframes.

It renders the newest inputs it finds and publishes keyframes into a
newest-wins slot; a keyframe that a command or an onset made stale is dropped mid-way. A failure
is counted, logged once in a while, shown, and survived.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import torch

from ganterp.live.core.clock import Clock
from ganterp.live.core.slots import LatestSlot
from ganterp.live.core.stats import LogOnce, RateMeter
from ganterp.live.display.compositor import Keyframe
from ganterp.live.trajectory import GenTarget
from ganterp.models.base import CancelCheck, Cancelled, Generator

log = logging.getLogger("ganterp.generator")


@dataclass
class GeneratorStats:
    """The generator worker's counters (read by the HUD and the report)."""

    keyframes: int = 0
    cancelled: int = 0
    errors: int = 0
    last_error: str = ""
    times_ms: deque[float] = field(default_factory=lambda: deque(maxlen=512))


def to_uint8_image(images: torch.Tensor) -> np.ndarray:
    """Convert a generator's output to displayable pixels.

    Parameters
    ----------
    images : torch.Tensor, shape (1, 3, H, W)
        Values in [-1, 1] (out-of-range values are clipped, NaN becomes black).

    Returns
    -------
    np.ndarray, shape (H, W, 3), uint8
    """
    x = torch.nan_to_num(images[0].float(), nan=-1.0, posinf=1.0, neginf=-1.0)
    x = ((x + 1.0) * 127.5).clamp_(0.0, 255.0).round_().to(torch.uint8)
    return x.permute(1, 2, 0).contiguous().cpu().numpy()


class GeneratorWorker:
    """Renders the newest generator inputs into keyframes, never blocking anyone.

    A keyframe in progress is dropped when a command or an onset makes it stale (a
    newer target with a higher ``commands`` or ``onsets`` count), so the change
    reaches the screen one keyframe after the command or the hit instead of up to
    two. Never twice in a row: a stream of commands (a MIDI fader) or of onsets (a
    drum roll) slows keyframes at most to half their rate and never stops them.

    Parameters
    ----------
    generator : Generator
        What paints.
    targets : LatestSlot of GenTarget
        Where the inputs come from.
    frames : LatestSlot of Keyframe
        Where keyframes go.
    clock : Clock
        Time source.
    log_once : LogOnce
        Rate-limited logger.
    retry_s : float
        Pause after a first failed call, seconds; it grows with each further
        failure in a row (x1.5), up to ``max_retry_s``.
    max_retry_s : float
        Longest pause between attempts, seconds.
    on_command_keyframe : callable, optional
        Called (on this thread) after publishing the first keyframe that shows
        a newer command, so the display can present it at once. Onsets do not
        call it: the display's few early frames a second are kept for the
        operator's commands.
    """

    def __init__(
        self,
        *,
        generator: Generator,
        targets: LatestSlot[GenTarget],
        frames: LatestSlot[Keyframe],
        clock: Clock,
        log_once: LogOnce,
        retry_s: float = 0.05,
        max_retry_s: float = 1.0,
        on_command_keyframe: Callable[[], None] | None = None,
    ) -> None:
        self.on_command_keyframe = on_command_keyframe
        self._shown_commands = 0
        self.generator = generator
        self.targets = targets
        self.frames = frames
        self.clock = clock
        self.log_once = log_once
        self.retry_s = float(retry_s)
        self.max_retry_s = float(max_retry_s)
        self.stats = GeneratorStats()
        self.rate = RateMeter(clock, window_s=2.0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ganterp-generator", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread and wait for it (a call in progress stops at its next check)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10.0)

    def render(self, target: GenTarget, cancel: CancelCheck | None = None) -> np.ndarray:
        """Generate one image for ``target`` (runs on the caller's thread).

        Raises
        ------
        Cancelled
            When ``cancel`` returned True during the call.
        """
        z = torch.from_numpy(np.ascontiguousarray(target.z, dtype=np.float32))[None]
        y = torch.from_numpy(np.ascontiguousarray(target.y, dtype=np.float32))[None]
        with torch.inference_mode():
            images = self.generator(z, y, float(target.truncation), cancel=cancel)
        return to_uint8_image(images)

    def stale(self, target: GenTarget) -> bool:
        """Whether a newer target carries commands or onsets that ``target`` does not.

        Thread-safe.
        """
        newest, _ = self.targets.get()
        return newest is not None and (
            newest.commands > target.commands or newest.onsets > target.onsets
        )

    def _drop(self, target: GenTarget, may_drop_stale: bool) -> bool:
        """The cancel check of a call: the show is ending, or (if allowed) ``target`` is stale."""
        return self._stop.is_set() or (may_drop_stale and self.stale(target))

    def _run(self) -> None:
        version = 0
        failures = 0
        cancelled = False
        while not self._stop.is_set():
            target, new_version = self.targets.wait_newer(version, timeout=0.1)
            if target is None or new_version == version:
                continue
            version = new_version
            t0 = time.perf_counter()
            try:
                image = self.render(target, partial(self._drop, target, not cancelled))
            except Cancelled:
                if self._stop.is_set():
                    break
                self.stats.cancelled += 1
                cancelled = True
                continue
            except Exception as exc:  # keep the last frame up and carry on
                self.stats.errors += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                self.log_once("generator", f"generator failed (last frame kept): {exc!r}")
                self._stop.wait(min(self.max_retry_s, self.retry_s * 1.5**failures))
                failures += 1
                continue
            failures = 0
            cancelled = False
            ms = (time.perf_counter() - t0) * 1000.0
            self.stats.keyframes += 1
            self.stats.times_ms.append(ms)
            self.rate.tick()
            self.frames.put(
                Keyframe(
                    image=image,
                    target=target,
                    ready_s=self.clock.now(),
                    generate_ms=ms,
                    index=self.stats.keyframes,
                )
            )
            if target.commands > self._shown_commands:
                self._shown_commands = target.commands
                if self.on_command_keyframe is not None:
                    self.on_command_keyframe()
