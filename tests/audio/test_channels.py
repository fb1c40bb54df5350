"""Picking or mixing the channel that drives the picture."""

from __future__ import annotations

import numpy as np
import pytest

from ganterp.live.audio.channels import to_mono


def test_channels() -> None:
    stereo = np.stack([np.full(4, 0.5), np.full(4, -0.1)], axis=1)
    assert to_mono(stereo, "left")[0] == pytest.approx(0.5)
    assert to_mono(stereo, "right")[0] == pytest.approx(-0.1)
    assert to_mono(stereo, "mix")[0] == pytest.approx(0.2)
    assert to_mono(stereo[:, :1], "right")[0] == pytest.approx(0.5)  # mono: its only channel
    assert to_mono(stereo).dtype == np.float32
    assert to_mono(stereo, dtype=np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="left"):
        to_mono(stereo, "centre")
    with pytest.raises(ValueError, match="shape"):
        to_mono(np.zeros((2, 2, 2)))
