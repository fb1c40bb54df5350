"""live.trajectory with the real analysis and generator: the picture follows known signals."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
import torch

from ganterp.live.analysis.analyzer import Analyzer
from ganterp.live.offline import musicality as m
from ganterp.live.offline.render import fit_batch
from ganterp.live.settings.layers import load_config
from ganterp.live.trajectory import GenTarget, Trajectory
from ganterp.models.registry import make_generator

SR = 44100
FPS = 30.0


def render(
    x: np.ndarray, *, fps: float = FPS, paint: bool = True, **trajectory: object
) -> tuple[list[GenTarget], np.ndarray, list[float]]:
    """The show's analysis and trajectory over ``x``, one target per frame, painted by cppn.

    Returns the targets, the visual change per frame (8-bit levels) and the beats' times.
    """
    config = load_config()
    settings = replace(config.trajectory, **trajectory)
    analyzer = Analyzer(SR, config.analysis, config.inflection)
    traj = Trajectory(settings, z_dim=128, num_classes=1000)
    gen = make_generator("cppn", resolution=64, threads=1) if paint else None
    targets, beats, changes = [], [], [0.0]
    fed, previous = 0, None
    for k in range(int(x.shape[0] / SR * fps)):
        until = round(k / fps * SR)
        features, events = analyzer.process(x[fed:until], fed) if until > fed else ([], [])
        fed = max(fed, until)
        beats += [e.time_s for e in events if type(e).__name__ == "Beat"]
        t = traj.step(features, events)
        targets.append(t)
        if gen is not None:
            with torch.inference_mode():
                image = fit_batch(
                    gen(torch.from_numpy(t.z[None]), torch.from_numpy(t.y[None]), t.truncation),
                    (64, 64),
                )[0]
            if previous is not None:
                changes.append(m.visual_change(previous, image))
            previous = image
    return targets, np.asarray(changes[: len(targets)]), beats


def busy_noise(seconds: float, amplitude: float, seed: int = 0) -> np.ndarray:
    """Noise whose spectrum changes every 50 ms: busy sound at a given level."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    out = np.zeros(n, dtype=np.float32)
    block = int(0.05 * SR)
    for start in range(0, n, block):
        piece = rng.standard_normal(min(block, n - start))
        cut = rng.uniform(200, 8000)
        spectrum = np.fft.rfft(piece)
        spectrum[np.fft.rfftfreq(piece.shape[0], 1 / SR) > cut] = 0
        out[start : start + piece.shape[0]] = np.fft.irfft(spectrum, piece.shape[0])
    return (amplitude * out / (np.std(out) + 1e-9)).astype(np.float32)


def z_speed(targets: list[GenTarget], lo: float, hi: float) -> float:
    """Mean distance z moves per frame between two times."""
    zs = [t.z.astype(np.float64) for t in targets if lo <= t.time_s < hi]
    return float(np.mean([np.linalg.norm(b - a) for a, b in itertools.pairwise(zs)]))


def test_loud_busy_sections_move_faster_than_the_quiet_ones_around_them() -> None:
    sections = [0.02, 0.2, 0.02, 0.2, 0.02]  # quiet, loud, quiet, loud, quiet: 3 s each
    x = np.concatenate([busy_noise(3.0, a, seed=i) for i, a in enumerate(sections)])
    targets, visual, _ = render(x, inflection_step="glide", max_segment_s=0.0)
    times = np.arange(len(visual)) / FPS
    for i in (1, 3):
        loud = (i * 3.0 + 0.5, i * 3.0 + 3.0)
        for j in (i - 1, i + 1):
            quiet = (j * 3.0 + 0.5, j * 3.0 + 3.0)
            assert z_speed(targets, *loud) > 1.5 * z_speed(targets, *quiet)
            in_loud = visual[(times >= loud[0]) & (times < loud[1])].mean()
            in_quiet = visual[(times >= quiet[0]) & (times < quiet[1])].mean()
            assert in_loud > 1.5 * in_quiet


def test_silence_is_calm_but_never_frozen() -> None:
    x = np.concatenate([busy_noise(4.0, 0.1), np.zeros(4 * SR, dtype=np.float32)])
    targets, visual, _ = render(x, max_segment_s=0.0)
    times = np.arange(len(visual)) / FPS
    music = visual[(times > 0.5) & (times < 4.0)].mean()
    silence = visual[times > 5.0]
    assert silence.min() > 0.0  # every frame still changes
    assert silence.mean() < 0.4 * music
    assert z_speed(targets, 5.0, 8.0) > 0.0


def click_track(seconds: float, bpm: float) -> np.ndarray:
    x = np.zeros(int(seconds * SR), dtype=np.float32)
    click = (0.8 * np.exp(-np.arange(int(0.03 * SR)) / (0.004 * SR))).astype(np.float32)
    click *= np.sign(np.sin(np.arange(click.shape[0]) * 2 * np.pi * 1500 / SR)).astype(np.float32)
    for k in range(int(seconds * bpm / 60)):
        start = int(k * 60 / bpm * SR)
        x[start : start + click.shape[0]] += click[: x.shape[0] - start]
    return x


def test_each_detected_beat_gives_a_visible_accent_within_one_display_frame() -> None:
    fps = 60.0
    targets, _, beats = render(click_track(12.0, 120.0), fps=fps, paint=False, max_segment_s=0.0)
    assert len(beats) >= 15
    zs = np.stack([t.z.astype(np.float64) for t in targets])
    steps = np.linalg.norm(np.diff(zs, axis=0), axis=1)  # steps[k]: frame k to k + 1
    for b in beats:
        # Frame first + 1 is the first after the beat. The analysis reports a hop a few
        # milliseconds after it ends (its resampler's delay), so the accent must show by the
        # frame after that one: a step at least 1.5 times the steps of the 0.1 s before the
        # click (an onset may have kicked already as the click began).
        first = int(np.floor(b * fps))
        if first >= 12 and first + 3 < steps.shape[0]:
            accent = max(steps[first : first + 3])
            before = float(np.max(steps[first - 12 : first - 6]))
            assert accent > 1.5 * before, f"no accent after the beat at {b:.2f} s"


def test_a_long_steady_tone_still_moves_on_by_max_segment_s() -> None:
    t = np.arange(int(26 * SR)) / SR
    x = (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    targets, _, _ = render(x, paint=False, max_segment_s=10.0)
    assert targets[0].inflections == 0 and targets[-1].inflections == 0
    categories = [t.category for t in targets]
    changed = [
        t.time_s for t, c in zip(targets[1:], categories[1:], strict=True) if c != categories[0]
    ]
    assert changed and changed[0] == pytest.approx(10.0, abs=0.2)
    assert len({*categories}) >= 3  # and again 10 s later


def test_an_inflection_is_a_visible_step_in_a_real_render() -> None:
    # Busy sound, a short break (a calm low point), busy sound again.
    x = np.concatenate(
        [busy_noise(6.0, 0.15, 1), np.zeros(int(0.8 * SR), np.float32), busy_noise(6.0, 0.15, 2)]
    )
    targets, visual, _ = render(x, max_segment_s=0.0)
    counts = [t.inflections for t in targets]
    firsts = [k for k in range(1, len(counts)) if counts[k] > counts[k - 1]]
    assert firsts, "the break gave no inflection"
    half = int(0.5 * FPS)
    for k in firsts:
        before = visual[k - half : k].mean()
        after = visual[k : k + half].mean()
        assert after >= 2.0 * before, (k / FPS, before, after)


def test_same_input_and_seed_give_bit_identical_frames() -> None:
    x = np.concatenate([busy_noise(2.0, 0.1), click_track(2.0, 128.0)])
    a = render(x)
    b = render(x)
    assert [t.z.tobytes() for t in a[0]] == [t.z.tobytes() for t in b[0]]
    assert [t.y.tobytes() for t in a[0]] == [t.y.tobytes() for t in b[0]]
    assert np.array_equal(a[1], b[1])  # the painted frames' changes, bit for bit
