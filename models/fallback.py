"""Keeping a show painting when its generator fails.

:class:`FallbackGenerator` wraps the show's generator. A failed call still
fails (the engine keeps the last frame up and tries again), but the wrapper
learns from it: out of memory with a batch larger than one halves the batch;
out of memory at batch one, or a few failures of any kind in a row, switches to
the next generator of its chain (a smaller model, then the embedded cppn).
Every change is a warning and shows in :attr:`warnings` and the name. Pictures
from a smaller model are scaled up, so the rest of the show never sees a change
of size.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F  # noqa: N812 (the usual name)

from ganterp.models.base import CancelCheck, Cancelled, Generator

log = logging.getLogger("ganterp")


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is an out-of-memory error (CUDA or host)."""
    if isinstance(exc, torch.cuda.OutOfMemoryError | MemoryError):
        return True
    return "out of memory" in str(exc).lower()


class FallbackGenerator:
    """A generator that steps down instead of failing for ever.

    Parameters
    ----------
    primary : Generator
        What paints while all goes well.
    fallbacks : sequence of (name, factory)
        Generators to build, in order, when the current one keeps failing.
    failures_to_switch : int
        Failures in a row (other than out of memory) before switching.
    warn : callable, optional
        Receives one line per change; default: the log.
    """

    def __init__(
        self,
        primary: Generator,
        fallbacks: Sequence[tuple[str, Callable[[], Generator]]],
        *,
        failures_to_switch: int = 3,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.current: Generator = primary
        self.primary_name = primary.name
        self._fallbacks = list(fallbacks)
        self.failures_to_switch = int(failures_to_switch)
        self._warn = warn or log.warning
        self.failures = 0
        self.max_batch: int | None = None
        self.warnings: list[str] = list(primary.warnings)
        self.z_dim = primary.z_dim
        self.num_classes = primary.num_classes
        self.resolution = primary.resolution
        self.class_names = primary.class_names

    @property
    def name(self) -> str:
        """The name of the generator now painting."""
        return self.current.name

    @property
    def device(self) -> torch.device:
        """Where the current generator computes."""
        return self.current.device

    @property
    def dtype(self) -> torch.dtype:
        """The current generator's precision."""
        return self.current.dtype

    @property
    def status(self) -> str:
        """One line: the current generator's own status, or its name."""
        return self.current.status

    def __call__(
        self,
        z: torch.Tensor,
        y: torch.Tensor,
        truncation: float,
        *,
        cancel: CancelCheck | None = None,
    ) -> torch.Tensor:
        """Generate images with the current generator; see :class:`~ganterp.models.base.Generator`.

        A cancelled call is not a failure: it counts towards no fallback.
        """
        step = self.max_batch or z.shape[0]
        try:
            parts = [
                self.current(z[i : i + step], y[i : i + step], truncation, cancel=cancel)
                for i in range(0, z.shape[0], step)
            ]
        except Cancelled:
            raise
        except Exception as exc:
            self._failed(exc, z.shape[0])
            raise
        self.failures = 0
        images = parts[0] if len(parts) == 1 else torch.cat(parts)
        if images.shape[-1] != self.resolution or images.shape[-2] != self.resolution:
            images = F.interpolate(
                images.float(),
                size=(self.resolution, self.resolution),
                mode="bilinear",
                align_corners=False,
            )
        return images

    def _failed(self, exc: BaseException, batch: int) -> None:
        oom = is_out_of_memory(exc)
        if oom and torch.cuda.is_available():
            torch.cuda.empty_cache()
        step = self.max_batch or batch
        if oom and step > 1:
            self.max_batch = step // 2
            self._say(f"{self.name}: out of memory at batch {step}; batch now {self.max_batch}")
            return
        self.failures += 1
        if oom or self.failures >= self.failures_to_switch:
            reason = "out of memory" if oom else f"{self.failures} failures in a row"
            self._switch(f"{type(exc).__name__}, {reason}")

    def _switch(self, reason: str) -> None:
        old = self.name
        while self._fallbacks:
            name, factory = self._fallbacks.pop(0)
            try:
                self.current = factory()
            except Exception as exc:
                self._say(f"fallback {name} unavailable: {exc}")
                continue
            self.failures = 0
            self.max_batch = None
            self._say(f"{old} failed ({reason}); switched to {name}")
            return
        self._say(f"{old} failed ({reason}); no fallback left, retrying")
        self.failures = 0

    def _say(self, text: str) -> None:
        self.warnings.append(text)
        self._warn(text)
