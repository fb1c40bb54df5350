"""Which channel drives the picture: a mix of all, or one of them."""

from __future__ import annotations

import numpy as np

#: The channel choices, as the command line and the settings spell them.
CHANNELS = ("mix", "left", "right")


def to_mono(samples: np.ndarray, channel: str = "mix", dtype: type = np.float32) -> np.ndarray:
    """Pick or mix channels.

    Parameters
    ----------
    samples : np.ndarray, shape (n,) or (n, channels)
    channel : str
        ``"mix"`` (mean of all), ``"left"`` (first) or ``"right"`` (second;
        the only one of a mono file).
    dtype : numpy dtype
        Precision of the result (and of the mix).

    Returns
    -------
    np.ndarray, shape (n,)

    Raises
    ------
    ValueError
        For another channel name or another shape.
    """
    if channel not in CHANNELS:
        raise ValueError(f"channel must be one of {', '.join(CHANNELS)}, not '{channel}'")
    x = np.asarray(samples, dtype=dtype)
    if x.ndim == 1:
        return x
    if x.ndim != 2:
        raise ValueError(f"audio must have shape (n,) or (n, channels), not {x.shape}")
    if channel == "mix" or x.shape[1] == 1:
        return x.mean(axis=1) if x.shape[1] > 1 else x[:, 0]
    return x[:, 0] if channel == "left" else x[:, 1]
