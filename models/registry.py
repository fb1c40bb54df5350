"""Generators by name."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from ganterp.models.base import Generator
from ganterp.models.biggan.catalog import MODELS, models_dir
from ganterp.models.biggan.generator import build_biggan
from ganterp.models.cppn import CppnGenerator
from ganterp.models.errors import GeneratorError
from ganterp.models.fallback import FallbackGenerator

log = logging.getLogger("ganterp")

#: Names accepted by :func:`make_generator`.
GENERATORS = ("cppn", "biggan-deep-128", "biggan-deep-256", "biggan-deep-512")

#: Largest cppn picture painted as a fallback (upscaled to the show's size).
_FALLBACK_CPPN_RESOLUTION = 256


def make_generator(
    name: str,
    *,
    resolution: int = 256,
    seed: int = 0,
    threads: int | None = None,
    weights: Path | None = None,
    device: str = "auto",
    backend: str = "auto",
    precision: str = "auto",
    batch: int = 1,
    fallback: bool = False,
    env: Mapping[str, str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Generator:
    """Build a generator.

    Parameters
    ----------
    name : str
        One of :data:`GENERATORS`.
    resolution : int
        cppn's image size in pixels (square); BigGAN models have their own.
    seed : int
        Seed of cppn's weights.
    threads : int, optional
        CPU threads for torch (sets the process-wide torch thread count).
    weights : Path, optional
        BigGAN model directory; by default the user cache.
    device, backend, precision : str
        BigGAN's device, engine and precision (see
        :func:`ganterp.models.biggan.generator.build_biggan`).
    batch : int
        Batch size of compiled BigGAN engines.
    fallback : bool
        Wrap a BigGAN generator so that repeated failures switch to a smaller
        model, then cppn (:class:`ganterp.models.fallback.FallbackGenerator`).
    env : mapping, optional
        Environment for the model cache location.
    warn : callable, optional
        Receives one-line warnings (fallbacks taken); default: the log.

    Raises
    ------
    GeneratorError
        For an unknown name, missing or broken weights, or an invalid setting.
    """
    if name == "cppn":
        return CppnGenerator(resolution=resolution, seed=seed, threads=threads)
    if name.startswith("biggan-deep-"):

        def build(model: str, model_weights: Path | None) -> Generator:
            return build_biggan(
                model,
                weights=model_weights,
                device=device,
                backend=backend,
                precision=precision,
                batch=batch,
                threads=threads,
                env=env,
                warn=warn,
            )

        primary = build(name, weights)
        if not fallback:
            return primary

        return FallbackGenerator(
            primary, _fallbacks(name, build, seed=seed, threads=threads, env=env), warn=warn
        )
    known = ", ".join(GENERATORS)
    raise GeneratorError(f"unknown generator '{name}' (available: {known})")


def _fallbacks(
    name: str,
    build: Callable[[str, Path | None], Generator],
    *,
    seed: int,
    threads: int | None,
    env: Mapping[str, str] | None,
) -> list[tuple[str, Callable[[], Generator]]]:
    """Smaller BigGAN models whose weights are in the cache, then cppn."""
    resolution = MODELS[name].resolution
    chain: list[tuple[str, Callable[[], Generator]]] = []
    for spec in sorted(MODELS.values(), key=lambda s: -s.resolution):
        if spec.resolution < resolution and (models_dir(env) / spec.name).is_dir():
            chain.append((spec.name, lambda n=spec.name: build(n, None)))

    def cppn() -> Generator:

        return CppnGenerator(
            resolution=min(resolution, _FALLBACK_CPPN_RESOLUTION), seed=seed, threads=threads
        )

    chain.append(("cppn", cppn))
    return chain
