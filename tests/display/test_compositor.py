"""live.display.compositor: cross-fading keyframes by time, and the blackout fade."""

from __future__ import annotations

import numpy as np
import pytest

from ganterp.live.display.compositor import MAX_FADE_S, Compositor, Keyframe

SIZE = (4, 6)


def keyframe(value, index: int = 1, ready_s: float = 0.0) -> Keyframe:
    """A keyframe of one colour (an int) or of a given image."""
    image = value if isinstance(value, np.ndarray) else np.full((*SIZE, 3), value, dtype=np.uint8)
    return Keyframe(image=image, target=None, ready_s=ready_s, generate_ms=1.0, index=index)


def blend(prev: np.ndarray, cur: np.ndarray, weight: float) -> np.ndarray:
    """The promised blend: (prev * (256 - w) + cur * w) >> 8, w = round(weight * 256)."""
    w = round(weight * 256)
    p, c = prev.astype(np.int64), cur.astype(np.int64)
    return ((p * (256 - w) + c * w) >> 8).astype(np.uint8)


def random_image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (*SIZE, 3), dtype=np.uint8)


def test_black_before_any_keyframe() -> None:
    comp = Compositor(SIZE)
    for t in (0.0, 0.5, 3.0):
        out = comp.frame(t)
        assert out.image.shape == (*SIZE, 3) and out.image.dtype == np.uint8
        assert not out.image.any()
        assert out.keyframe is None and out.weight == 0.0
    assert comp.current is None


def test_wrong_size_keyframe_is_refused() -> None:
    comp = Compositor(SIZE)
    good = keyframe(100)
    comp.push(good, 0.0)
    bad = Keyframe(
        image=np.zeros((SIZE[1], SIZE[0], 3), np.uint8),
        target=None,
        ready_s=0.0,
        generate_ms=1.0,
        index=2,
    )
    with pytest.raises(ValueError, match="size"):
        comp.push(bad, 0.1)
    assert comp.current is good  # nothing changed


def test_fade_weight_grows_linearly_from_the_push() -> None:
    comp = Compositor(SIZE)
    kf = keyframe(200)
    comp.push(kf, 10.0)
    first = comp.frame(10.0)
    assert first.weight == 0.0 and first.keyframe is kf
    assert not first.image.any()  # weight 0: still what was on screen (black)
    step = 0.01
    w1 = comp.frame(10.0 + step).weight
    assert 0.0 < w1 < 1.0
    fade = step / w1
    assert 0.0 < fade <= MAX_FADE_S
    weights = []
    k = 2
    while True:
        t = 10.0 + k * step
        out = comp.frame(t)
        weights.append(out.weight)
        if out.weight >= 1.0:
            break
        assert out.weight == pytest.approx(k * step / fade, rel=1e-9)
        k += 1
        assert k < 1000
    assert k * step == pytest.approx(fade, abs=step)
    # after the fade: the keyframe itself, for good
    for t in (10.0 + fade + 0.001, 11.0, 20.0):
        out = comp.frame(t)
        assert out.weight == 1.0
        assert np.array_equal(out.image, kf.image)


def test_pixels_are_the_promised_blend() -> None:
    comp = Compositor(SIZE)
    a, b = random_image(1), random_image(2)
    comp.push(keyframe(a, 1), 0.0)
    shown = comp.frame(5.0).image  # fully a
    assert np.array_equal(shown, a)
    comp.push(keyframe(b, 2), 5.0)
    seen_weights = set()
    for k in range(1, 200):
        out = comp.frame(5.0 + k * 0.0013)
        if out.weight >= 1.0:
            assert np.array_equal(out.image, b)
            break
        seen_weights.add(round(out.weight * 256))
        assert np.array_equal(out.image, blend(a, b, out.weight))
    assert len(seen_weights) > 10  # many different weights were checked


def test_constant_colour_blend_values() -> None:
    comp = Compositor(SIZE)
    comp.push(keyframe(200), 0.0)
    w = comp.frame(0.01).weight
    fade = 0.01 / w
    half = comp.frame(fade / 2)
    assert half.weight == pytest.approx(0.5)
    assert (half.image == 100).all()  # (0 * 128 + 200 * 128) >> 8
    quarter_to = comp.frame(fade * 0.75)
    assert (quarter_to.image == (200 * 192) >> 8).all()


def test_new_keyframe_mid_fade_fades_from_what_was_on_screen() -> None:
    comp = Compositor(SIZE)
    comp.push(keyframe(random_image(3), 1), 0.0)
    comp.frame(1.0)
    b, c = random_image(4), random_image(5)
    comp.push(keyframe(b, 2), 1.0)
    on_screen = comp.frame(1.02)
    assert 0.0 < on_screen.weight < 1.0  # mid-fade
    comp.push(keyframe(c, 3), 1.02)
    right_after = comp.frame(1.02)
    # no jump: the first frame after the push is exactly what was shown
    assert np.array_equal(right_after.image, on_screen.image)
    assert right_after.keyframe is not None and right_after.keyframe.index == 3
    # then it fades from that picture (not from b) to c
    for k in range(1, 100):
        out = comp.frame(1.02 + k * 0.003)
        if out.weight >= 1.0:
            assert np.array_equal(out.image, c)
            break
        assert np.array_equal(out.image, blend(on_screen.image, c, out.weight))
    else:
        pytest.fail("the fade did not end")


def test_fade_follows_the_keyframe_rate() -> None:
    comp = Compositor(SIZE)
    t = 0.0
    for i in range(40):
        comp.push(keyframe(i * 5, i + 1), t)
        comp.frame(t)
        t += 0.3
    comp.push(keyframe(255, 99), t)
    # The fade lasts about the time to the next keyframe (0.3 s), so it ends as it arrives.
    w = comp.frame(t + 0.15).weight
    assert w == pytest.approx(0.5, abs=0.01)


def test_fade_is_capped_for_a_slow_generator() -> None:
    comp = Compositor(SIZE)
    t = 0.0
    for i in range(30):
        comp.push(keyframe(i, i + 1), t)
        comp.frame(t)
        t += 3.0  # a keyframe every 3 s
    comp.push(keyframe(255, 99), t)
    assert comp.frame(t + MAX_FADE_S / 2).weight == pytest.approx(0.5, abs=0.01)
    assert comp.frame(t + MAX_FADE_S + 1e-6).weight == 1.0


def test_no_crossfade_cuts() -> None:
    comp = Compositor(SIZE, crossfade=False)
    a, b = random_image(6), random_image(7)
    comp.push(keyframe(a, 1), 0.0)
    out = comp.frame(0.0)
    assert out.weight == 1.0 and np.array_equal(out.image, a)
    comp.push(keyframe(b, 2), 0.05)
    out = comp.frame(0.05)
    assert out.weight == 1.0 and np.array_equal(out.image, b)


def test_lead_puts_the_first_frame_already_into_the_fade() -> None:
    plain = Compositor(SIZE)
    led = Compositor(SIZE, lead_s=0.02)
    for comp in (plain, led):
        comp.push(keyframe(200), 1.0)
    assert plain.frame(1.0).weight == 0.0
    first = led.frame(1.0)
    assert first.weight > 0.0
    assert (first.image > 0).all()
    # the lead is a shift in time: the led fade is where the plain one is 20 ms later
    assert first.weight == pytest.approx(plain.frame(1.02).weight)


def test_blackout_fades_to_black_and_back() -> None:
    comp = Compositor(SIZE, blackout_fade_s=1.0)
    comp.push(keyframe(200), 0.0)
    assert (comp.frame(5.0).image == 200).all()
    comp.set_blackout(True)
    assert (comp.frame(5.0).image == 200).all()  # no time has passed
    half = comp.frame(5.5).image
    assert (half == (200 * 128) >> 8).all()
    quarter = comp.frame(5.75).image
    assert (quarter == (200 * 64) >> 8).all()
    assert not comp.frame(6.0).image.any()
    assert not comp.frame(9.0).image.any()  # stays black
    comp.set_blackout(False)
    assert not comp.frame(9.0).image.any()
    assert (comp.frame(9.5).image == (200 * 128) >> 8).all()
    assert (comp.frame(10.0).image == 200).all()
    assert (comp.frame(12.0).image == 200).all()


def test_blackout_fade_time_is_a_setting() -> None:
    comp = Compositor(SIZE, blackout_fade_s=0.2)
    comp.push(keyframe(200), 0.0)
    comp.frame(1.0)
    comp.set_blackout(True)
    assert (comp.frame(1.1).image == 100).all()
    assert not comp.frame(1.2).image.any()


def test_blackout_released_mid_fade_returns_from_where_it_was() -> None:
    comp = Compositor(SIZE, blackout_fade_s=1.0)
    comp.push(keyframe(200), 0.0)
    comp.frame(1.0)
    comp.set_blackout(True)
    assert (comp.frame(1.25).image == (200 * 192) >> 8).all()
    comp.set_blackout(False)
    assert (comp.frame(1.5).image == 200).all()  # 0.25 down, 0.25 back up


def test_keyframe_arriving_during_blackout_stays_dark() -> None:
    comp = Compositor(SIZE, blackout_fade_s=0.5)
    comp.push(keyframe(200, 1), 0.0)
    comp.frame(1.0)
    comp.set_blackout(True)
    comp.frame(2.0)
    comp.push(keyframe(250, 2), 2.0)
    for t in (2.0, 2.05, 2.5, 3.0):
        assert not comp.frame(t).image.any()
    comp.set_blackout(False)
    comp.frame(3.0)
    assert (comp.frame(3.5).image == 250).all()
