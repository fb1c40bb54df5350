"""How far a reduced-precision or compiled generator is from fp32 eager."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

MIN_PSNR_DB = 30.0
"""Below this, ``auto`` does not trust a path."""


@dataclass(frozen=True)
class Accuracy:
    """Agreement of two batches of images on [-1, 1].

    Attributes
    ----------
    psnr_db : float
        Peak signal-to-noise ratio in dB for a peak-to-peak range of 2
        (``inf`` when identical).
    max_abs : float
        Largest absolute difference, in [-1, 1] units.
    """

    psnr_db: float
    max_abs: float

    def __str__(self) -> str:
        psnr = "identical" if math.isinf(self.psnr_db) else f"{self.psnr_db:.1f} dB"
        return f"{psnr}, max error {self.max_abs:.3g}"


def compare(test: torch.Tensor, reference: torch.Tensor) -> Accuracy:
    """Compare images with a reference.

    Parameters
    ----------
    test, reference : torch.Tensor, shape (B, 3, H, W)
        Images on [-1, 1]; any dtype and device (compared in fp32 on the CPU).
        Non-finite values count as the largest possible error.

    Returns
    -------
    Accuracy
    """
    a = test.detach().float().cpu()
    b = reference.detach().float().cpu()
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    diff = torch.nan_to_num(a - b, nan=2.0, posinf=2.0, neginf=2.0).abs().clamp_(max=2.0)
    mse = float((diff**2).mean())
    psnr = math.inf if mse == 0.0 else 10.0 * math.log10(4.0 / mse)
    return Accuracy(psnr_db=psnr, max_abs=float(diff.max()) if diff.numel() else 0.0)


def probe_inputs(
    batch: int, z_dim: int, num_classes: int, *, seed: int = 1234
) -> tuple[torch.Tensor, torch.Tensor]:
    """Fixed inputs for accuracy checks: truncated latents and mixed classes.

    Returns
    -------
    z : torch.Tensor, shape (batch, z_dim), fp32
        ``0.4 * truncnorm(-2, 2)``-like latents.
    y : torch.Tensor, shape (batch, num_classes), fp32
        Each a blend of two classes, as in a morph.
    """
    g = torch.Generator().manual_seed(seed)
    z = 0.4 * torch.randn(batch, z_dim, generator=g).clamp_(-2.0, 2.0)
    y = torch.zeros(batch, num_classes)
    for i in range(batch):
        a, b = torch.randint(num_classes, (2,), generator=g).tolist()
        w = float(torch.rand((), generator=g))
        y[i, a] += w
        y[i, b] += 1.0 - w
    return z, y
