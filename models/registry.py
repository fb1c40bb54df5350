"""Generators by name."""

from __future__ import annotations

from models.base import Generator
from models.errors import GeneratorError

#: Names accepted by :func:`make_generator`.
GENERATORS = ("cppn",)


def make_generator(
    name: str, *, resolution: int = 256, seed: int = 0, threads: int | None = None
) -> Generator:
    """Build a generator.

    Parameters
    ----------
    name : str
        One of :data:`GENERATORS`.
    resolution : int
        Image size in pixels (square).
    seed : int
        Seed of the generator's weights, where it has random ones.
    threads : int, optional
        CPU threads for torch (sets the process-wide torch thread count).

    Raises
    ------
    GeneratorError
        For an unknown name or an invalid setting.
    """
    if name == "cppn":
        from models.cppn import CppnGenerator

        return CppnGenerator(resolution=resolution, seed=seed, threads=threads)
    known = ", ".join(GENERATORS)
    raise GeneratorError(f"unknown generator '{name}' (available: {known})")
