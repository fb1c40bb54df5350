"""The generator protocol every backend honours.

A generator maps a batch of latent vectors ``z``, class vectors ``y`` and a
truncation value to images in [-1, 1], BigGAN's convention. The embedded
``cppn``, BigGAN eager and every accelerated backend take the same call, so the
engine, the offline renderer and the tests never ask which one they hold.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch


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
    """

    name: str
    z_dim: int
    num_classes: int
    resolution: int
    class_names: tuple[str, ...]
    device: torch.device
    dtype: torch.dtype

    def __call__(self, z: torch.Tensor, y: torch.Tensor, truncation: float) -> torch.Tensor:
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

        Returns
        -------
        torch.Tensor, shape (B, 3, resolution, resolution), float
            Images with values in [-1, 1].
        """
        ...
