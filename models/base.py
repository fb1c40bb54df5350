"""The generator protocol every backend honours.

A generator maps a batch of latent vectors ``z``, class vectors ``y`` and a
truncation value to images in [-1, 1], BigGAN's convention. The embedded
``cppn``, BigGAN eager and every accelerated backend take the same call, so the
engine, the offline renderer and the tests never ask which one they hold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, runtime_checkable

import torch

CancelCheck = Callable[[], bool]
"""Asked between parts of a generator call: True means its result is no longer wanted."""


class Cancelled(Exception):  # noqa: N818 - not an error: a call stopped on request
    """A generator call stopped early because its ``cancel`` check said so."""


def check_cancel(cancel: CancelCheck | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` is given and returns True."""
    if cancel is not None and cancel():
        raise Cancelled


@runtime_checkable
class Generator(Protocol):
    """A class-conditional image generator.

    Attributes
    ----------
    name : str
        Short identifier shown in the HUD and in benchmarks, e.g. ``"cppn"``.
    z_dim : int
        Length of a latent vector.
    num_classes : int
        Length of a class vector.
    resolution : int
        Height and width of the square images, in pixels.
    class_names : tuple of str
        Display name of every class, in class-vector order.
    device : torch.device
        Where the computation runs.
    dtype : torch.dtype
        Precision of the computation.
    status : str
        One line for the HUD, logs and reports: the name, and for an accelerated
        backend its engine and precision (``"biggan-deep-256 tensorrt fp16 41 dB"``).
    warnings : list of str
        What the user should know about how it runs (a slower engine than asked
        for, a switch to a fallback), one line each; empty when all is as asked.
    """

    name: str
    z_dim: int
    num_classes: int
    resolution: int
    class_names: tuple[str, ...]
    device: torch.device
    dtype: torch.dtype
    warnings: list[str]

    @property
    def status(self) -> str:
        """One line describing what paints (see the class attributes)."""
        ...

    def __call__(
        self,
        z: torch.Tensor,
        y: torch.Tensor,
        truncation: float,
        *,
        cancel: CancelCheck | None = None,
    ) -> torch.Tensor:
        """Generate a batch of images.

        Parameters
        ----------
        z : torch.Tensor, shape (B, z_dim), float
            Latent vectors, already scaled by the truncation (BigGAN's
            convention: ``truncation * truncnorm(-2, 2)``).
        y : torch.Tensor, shape (B, num_classes), float
            Class vectors: one-hot, or a convex mix of classes.
        truncation : float
            Truncation in (0, 1]; smaller is more typical, less varied.
        cancel : callable, optional
            Asked between parts of the work (a tile, a layer); when it returns
            True the call stops and raises :class:`Cancelled`. A generator whose
            work is one opaque call (a compiled engine) asks only before it
            starts. The show uses it to drop a half-painted keyframe that an
            operator's command has made stale.

        Returns
        -------
        torch.Tensor, shape (B, 3, resolution, resolution), float
            Images with values in [-1, 1].

        Raises
        ------
        Cancelled
            When ``cancel`` returned True.
        """
        ...
