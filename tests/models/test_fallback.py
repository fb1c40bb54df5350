"""A failing generator steps down: smaller batch, then the next generator, never silently."""

from __future__ import annotations

import pytest
import torch

from ganterp.models.base import Cancelled
from ganterp.models.fallback import FallbackGenerator, is_out_of_memory


class Fake:
    """A generator that paints a constant and fails on demand."""

    def __init__(self, name: str, resolution: int, value: float, fail_over_batch: int = 99):
        self.name = name
        self.resolution = resolution
        self.value = value
        self.fail_over_batch = fail_over_batch
        self.fail_always: Exception | None = None
        self.z_dim, self.num_classes = 128, 1000
        self.class_names = ("a",) * 1000
        self.device, self.dtype = torch.device("cpu"), torch.float32
        self.warnings: list[str] = []
        self.calls: list[int] = []

    @property
    def status(self) -> str:
        return f"{self.name} fake"

    def __call__(
        self, z: torch.Tensor, y: torch.Tensor, truncation: float, *, cancel=None
    ) -> torch.Tensor:
        self.calls.append(z.shape[0])
        if cancel is not None and cancel():
            raise Cancelled
        if self.fail_always is not None:
            raise self.fail_always
        if z.shape[0] > self.fail_over_batch:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return torch.full((z.shape[0], 3, self.resolution, self.resolution), self.value)


def _inputs(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.zeros(n, 128), torch.zeros(n, 1000)


def test_out_of_memory_halves_the_batch() -> None:
    primary = Fake("big", 64, 0.5, fail_over_batch=2)
    warnings: list[str] = []
    gen = FallbackGenerator(primary, [], warn=warnings.append)
    with pytest.raises(RuntimeError):
        gen(*_inputs(8), 0.4)
    assert gen.max_batch == 4 and "batch now 4" in warnings[-1]
    with pytest.raises(RuntimeError):
        gen(*_inputs(8), 0.4)
    out = gen(*_inputs(8), 0.4)  # in chunks of 2 now
    assert out.shape == (8, 3, 64, 64) and primary.calls[-4:] == [2, 2, 2, 2]
    assert gen.name == "big"


def test_out_of_memory_at_batch_one_switches_and_upscales() -> None:
    primary = Fake("big", 64, 0.5, fail_over_batch=0)
    small = Fake("small", 16, -0.25)
    warnings: list[str] = []
    gen = FallbackGenerator(primary, [("small", lambda: small)], warn=warnings.append)
    with pytest.raises(RuntimeError):
        gen(*_inputs(1), 0.4)
    assert gen.name == "small" and "switched to small" in warnings[-1]
    assert gen.warnings == warnings
    assert gen.status == "small fake"  # the protocol's status, of the one now painting
    out = gen(*_inputs(1), 0.4)
    assert out.shape == (1, 3, 64, 64)  # the show never sees a change of size
    assert torch.allclose(out, torch.full_like(out, -0.25))


def test_repeated_failures_switch_and_broken_fallbacks_are_skipped() -> None:
    primary = Fake("big", 32, 0.5)
    primary.fail_always = ValueError("driver reset")
    last = Fake("cppn", 32, 0.1)

    def broken():
        raise OSError("no weights")

    warnings: list[str] = []
    gen = FallbackGenerator(
        primary,
        [("mid", broken), ("cppn", lambda: last)],
        failures_to_switch=3,
        warn=warnings.append,
    )
    for _ in range(2):
        with pytest.raises(ValueError):
            gen(*_inputs(1), 0.4)
    assert gen.name == "big"  # two failures are not yet enough
    with pytest.raises(ValueError):
        gen(*_inputs(1), 0.4)
    assert gen.name == "cppn"
    assert any("fallback mid unavailable" in w for w in warnings)
    assert gen(*_inputs(1), 0.4).shape == (1, 3, 32, 32)


def test_out_of_memory_is_recognised() -> None:
    assert is_out_of_memory(RuntimeError("CUDA out of memory. Tried to allocate"))
    assert is_out_of_memory(MemoryError())
    assert not is_out_of_memory(ValueError("shape mismatch"))


def test_a_cancelled_call_is_not_a_failure() -> None:
    primary = Fake("big", 32, 0.5)
    last = Fake("cppn", 32, 0.1)
    warnings: list[str] = []
    gen = FallbackGenerator(
        primary, [("cppn", lambda: last)], failures_to_switch=1, warn=warnings.append
    )
    asked: list[int] = []

    def cancel() -> bool:
        asked.append(1)
        return True

    for _ in range(3):
        with pytest.raises(Cancelled):
            gen(*_inputs(1), 0.4, cancel=cancel)
    assert len(asked) == 3  # the check reached the generator that paints
    assert gen.name == "big" and gen.failures == 0 and warnings == []
    out = gen(*_inputs(1), 0.4, cancel=lambda: False)
    assert torch.allclose(out, torch.full_like(out, 0.5))
