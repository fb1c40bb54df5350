"""Brightness, contrast, hue and the visual delay."""

from __future__ import annotations

import numpy as np

from ganterp.live.display.compositor import Compositor, Keyframe
from ganterp.live.display.effects import FrameDelay, PostEffects

RNG = np.random.default_rng(0)
IMAGE = RNG.integers(0, 256, (16, 16, 3), dtype=np.uint8)


def test_neutral_is_the_same_array() -> None:
    assert PostEffects().apply(IMAGE) is IMAGE


def test_brightness_contrast_and_hue() -> None:
    brighter = PostEffects(brightness=0.2).apply(IMAGE).astype(float)
    assert 40 < brighter.mean() - IMAGE.mean() < 52
    flat = PostEffects(contrast=0.0).apply(IMAGE)
    assert np.all(np.abs(flat.astype(int) - 128) <= 1)
    stronger = PostEffects(contrast=2.0).apply(IMAGE).astype(float)
    assert stronger.std() > IMAGE.astype(float).std()
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 200
    turned = PostEffects(hue_deg=120.0).apply(red)[0, 0].astype(int)
    assert turned[1] > turned[0] and turned[1] > turned[2]  # red turns to green
    assert np.array_equal(PostEffects(hue_deg=360.0).apply(IMAGE), IMAGE)


def test_delay_shows_each_frame_late_by_the_delay() -> None:
    delay = FrameDelay(0.1)
    frames = [np.full((2, 2, 3), i, np.uint8) for i in range(20)]
    shown = [int(delay.push(i * 0.02, f)[0, 0, 0]) for i, f in enumerate(frames)]
    # At t = i * 20 ms the frame made 100 ms (5 frames) earlier is up.
    assert shown[:6] == [0, 0, 0, 0, 0, 0] and shown[10] == 5 and shown[19] == 14
    delay.delay_s = 0.0
    assert delay.push(1.0, frames[3]) is frames[3]


def test_blackout_stays_black_with_added_brightness() -> None:
    effects = PostEffects(brightness=0.5)
    comp = Compositor((16, 16), crossfade=False, blackout_fade_s=0.1, effects=effects)
    comp.push(Keyframe(image=IMAGE, target=None, ready_s=0.0, generate_ms=0.0, index=1), 0.0)
    assert comp.frame(0.0).image.mean() > IMAGE.mean() + 80  # brighter (some clip at white)
    comp.set_blackout(True)
    comp.frame(0.05)
    assert comp.frame(0.2).image.max() == 0
