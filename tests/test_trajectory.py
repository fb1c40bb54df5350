"""live.trajectory: from analysis features, events and commands to generator inputs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from ganterp.live.analysis.features import AudioFeatures, Beat, Inflection, Onset
from ganterp.live.core.commands import (
    Freeze,
    JumpToCategory,
    NextCategory,
    PreviousCategory,
    ReseedZ,
    SetCategories,
)
from ganterp.live.settings.schema import TrajectorySettings
from ganterp.live.trajectory import (
    MAX_SPEED,
    GenTarget,
    Trajectory,
    category_bank,
    truncated_normal,
)

HOP = 256
RATE = 48000
DT = HOP / RATE  # 5.33 ms
Z_DIM = 32
NUM_CLASSES = 10
CATS = (3, 5, 7)


class Feed:
    """Consecutive analysis hops, numbered from 1 (time and frame advance by one hop)."""

    def __init__(self) -> None:
        self.hop = 0

    def __call__(
        self,
        n: int = 1,
        *,
        curve: float = 0.0,
        level: float = 0.0,
        flux: float = 0.0,
        onset: bool = False,
        beat: bool = False,
    ) -> list[AudioFeatures]:
        """``n`` hops; ``onset``/``beat`` flag the first of them."""
        out = []
        for k in range(n):
            self.hop += 1
            out.append(
                AudioFeatures(
                    time_s=self.hop * DT,
                    frame=self.hop * HOP,
                    rms_db=-60.0 + 60.0 * level,
                    level=level,
                    bands_db=(-60.0, -60.0, -60.0),
                    bands=(level, level, level),
                    change=curve,
                    curve=curve,
                    onset=onset and k == 0,
                    beat=beat and k == 0,
                    bpm=120.0 if beat else 0.0,
                    pitch_hz=0.0,
                    pitch_confidence=0.0,
                    flux=flux,
                )
            )
        return out

    @property
    def time_s(self) -> float:
        return self.hop * DT

    def onset(self) -> Onset:
        return Onset(time_s=self.time_s, frame=self.hop * HOP)

    def beat(self, index: int = 0) -> Beat:
        return Beat(time_s=self.time_s, frame=self.hop * HOP, bpm=120.0, index=index)

    def inflection(self) -> Inflection:
        return Inflection(index=self.hop, time_s=self.time_s, strength=0.05, decided_index=self.hop)


def quiet(**kwargs) -> TrajectorySettings:
    """Settings without audio motion (z moves only by policy and commands)."""
    base = {
        "breathe": 0.0,
        "onset_pulse": 0.0,
        "beat_pulse": 0.0,
        "drift": 0.0,
        "motion_speed": 0.0,
        "inflection_step": "glide",
        "max_segment_s": 0.0,
        # The morph's speed is the music's own, 1 whatever the flux (contrast 0).
        "level_weight": 0.0,
        "contrast": 0.0,
    }
    base.update(kwargs)
    return TrajectorySettings(**base)


def make(settings: TrajectorySettings | None = None, categories=CATS, **kwargs) -> Trajectory:
    kwargs.setdefault("z_dim", Z_DIM)
    kwargs.setdefault("num_classes", NUM_CLASSES)
    return Trajectory(settings or TrajectorySettings(), categories=categories, **kwargs)


def onehot(i: int, n: int = NUM_CLASSES) -> np.ndarray:
    y = np.zeros(n, dtype=np.float32)
    y[i] = 1.0
    return y


def hop_by_hop(traj: Trajectory, feed: Feed, n: int, **kw) -> list[GenTarget]:
    return [traj.step(feed(1, **kw)) for _ in range(n)]


def run_until_done(traj: Trajectory, feed: Feed, max_hops: int = 20000, **kw) -> list[GenTarget]:
    """Step hop by hop until the morph completes (alpha 1); fail if it never does."""
    outs = []
    for _ in range(max_hops):
        out = traj.step(feed(1, **kw))
        outs.append(out)
        if out.alpha >= 1.0:
            return outs
    raise AssertionError(f"morph did not complete in {max_hops} hops (alpha {outs[-1].alpha})")


def assert_convex(y: np.ndarray) -> None:
    assert y.dtype == np.float32 and y.shape == (NUM_CLASSES,)
    assert (y >= 0).all()
    assert float(y.sum()) == pytest.approx(1.0, abs=1e-6)


# -- helpers of the module -----------------------------------------------------------------


def test_truncated_normal_is_bounded_and_seeded() -> None:
    a = truncated_normal(np.random.default_rng(1), 10000, bound=1.5)
    b = truncated_normal(np.random.default_rng(1), 10000, bound=1.5)
    assert np.array_equal(a, b)
    assert np.abs(a).max() <= 1.5
    assert 0.6 < a.std() < 1.0  # a truncated standard normal, not a constant


def test_category_bank() -> None:
    bank = category_bank(4, 12, 1000)
    assert len(bank) == len(set(bank)) == 12
    assert all(0 <= c < 1000 for c in bank)
    assert category_bank(4, 12, 1000) == bank
    assert category_bank(5, 12, 1000) != bank
    assert sorted(category_bank(0, 50, 10)) == list(range(10))


# -- determinism --------------------------------------------------------------------------------


def scripted_run(settings: TrajectorySettings) -> list[GenTarget]:
    traj = make(settings)
    feed = Feed()
    outs = [traj.step([])]
    for k in range(240):
        curve = 0.5 + 0.45 * math.sin(k / 9.0)
        level = 0.5 + 0.5 * math.cos(k / 5.0)
        events: list = []
        onset, beat = k % 7 == 0, k % 11 == 0
        feats = feed(3, curve=curve, level=level, onset=onset, beat=beat)
        if onset:
            events.append(feed.onset())
        if beat:
            events.append(feed.beat(k))
        if k % 60 == 30:
            events.append(feed.inflection())
        commands = [ReseedZ()] if k == 100 else []
        outs.append(traj.step(feats, events, commands))
    return outs


def test_same_settings_seed_and_inputs_give_identical_outputs() -> None:
    s = TrajectorySettings(z_policy="per-inflection", morph_s=0.5, seed=7)
    a, b = scripted_run(s), scripted_run(s)
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x.z, y.z)
        assert np.array_equal(x.y, y.y)
        assert (x.alpha, x.category, x.source, x.frame) == (y.alpha, y.category, y.source, y.frame)
    # the run was not trivial: z and y moved
    assert not np.array_equal(a[1].z, a[-1].z)
    assert not np.array_equal(a[1].y, a[-1].y)


def test_different_seed_gives_different_z() -> None:
    a = scripted_run(TrajectorySettings(seed=1))
    b = scripted_run(TrajectorySettings(seed=2))
    assert not np.array_equal(a[0].z, b[0].z)
    assert not np.array_equal(a[-1].z, b[-1].z)


# -- categories -----------------------------------------------------------------------------------


def test_opens_on_the_first_category_and_stays_there_without_inflections() -> None:
    traj = make(TrajectorySettings())
    first = traj.step([])
    assert np.array_equal(first.y, onehot(CATS[0]))
    assert first.alpha == 1.0
    assert first.category == first.source == CATS[0]
    assert first.upcoming == CATS[1]
    feed = Feed()
    # 10 s of lively sound but no inflection: still the first category, whole.
    for k in range(500):
        out = traj.step(feed(4, curve=0.9 if k % 2 else 0.1, level=1.0, onset=k % 5 == 0))
        assert np.array_equal(out.y, onehot(CATS[0]))
        assert out.alpha == 1.0 and out.category == CATS[0]


def test_after_an_inflection_y_morphs_to_the_next_category() -> None:
    traj = make(quiet(morph_s=0.5))
    feed = Feed()
    before = traj.step(feed(100, flux=0.1, level=1.0))
    start = traj.step([], [feed.inflection()])
    # The morph starts from the present vector (no jump) ...
    assert np.array_equal(start.y, before.y)
    assert start.alpha == 0.0
    assert (start.source, start.category, start.upcoming) == (CATS[0], CATS[1], CATS[2])
    outs = run_until_done(traj, feed, flux=0.1, level=1.0)
    alphas = [start.alpha] + [o.alpha for o in outs]
    assert all(b >= a for a, b in itertools.pairwise(alphas))
    assert alphas[1] > 0.0
    for o in outs:
        assert_convex(o.y)
        # ... and mixes only the two categories, by alpha.
        assert set(np.flatnonzero(o.y)) <= {CATS[0], CATS[1]}
        assert o.y[CATS[1]] == pytest.approx(o.alpha, abs=1e-6)
    assert np.array_equal(outs[-1].y, onehot(CATS[1]))
    # At the typical activity, the morph takes about morph_s.
    assert len(outs) * DT == pytest.approx(0.5, rel=0.1)
    # and then it stays there
    for o in hop_by_hop(traj, feed, 50, flux=0.1, level=1.0):
        assert np.array_equal(o.y, onehot(CATS[1]))


@pytest.mark.parametrize("floor", [0.25, 0.5])
def test_morph_completes_without_spectral_change(floor) -> None:
    morph_s = 0.4
    # Sound without spectral change: the music's own speed is about 0 (contrast 3).
    traj = make(quiet(morph_s=morph_s, min_morph_speed=floor, contrast=3.0))
    feed = Feed()
    traj.step(feed(10, level=1.0))
    traj.step([], [feed.inflection()])
    outs = run_until_done(traj, feed, curve=0.0, level=1.0)
    # the floor speed: floor times the average speed
    assert len(outs) * DT == pytest.approx(morph_s / floor, abs=2 * DT)
    assert np.array_equal(outs[-1].y, onehot(CATS[1]))


CONTRAST = 1.5


def hops_to_complete(flux_after: float, morph_s: float = 0.5) -> int:
    traj = make(quiet(morph_s=morph_s, contrast=CONTRAST))
    feed = Feed()
    traj.step(feed(940, flux=flux_after, level=1.0))  # 5 s: the smoothed activity settles
    traj.step([], [feed.inflection()])
    return len(run_until_done(traj, feed, flux=flux_after, level=1.0))


def test_more_activity_than_typical_morphs_faster() -> None:
    at_average = hops_to_complete(0.1)
    above = hops_to_complete(0.3)
    far_above = hops_to_complete(1.0)
    below = hops_to_complete(0.05)
    # Flux at its running mean (the typical value, where the reference starts): the
    # drive is exp(-contrast**2 / 5), the value that keeps its average over music near 1.
    assert at_average * DT == pytest.approx(0.5 / math.exp(-(CONTRAST**2) / 5), rel=0.05)
    assert far_above <= above < 0.6 * at_average
    assert below > 1.5 * at_average
    # but never faster than MAX_SPEED times the average speed
    assert far_above * DT >= 0.5 / MAX_SPEED - DT


def test_inflection_mid_morph_continues_from_the_current_mix() -> None:
    traj = make(quiet(morph_s=0.5))
    feed = Feed()
    traj.step(feed(50, curve=0.2))
    traj.step([], [feed.inflection()])
    mid = traj.step(feed(1, curve=0.2))
    while mid.alpha < 0.5:
        mid = traj.step(feed(1, curve=0.2))
    assert 0.5 <= mid.alpha < 0.6
    a, b, c = CATS
    again = traj.step([], [feed.inflection()])
    # No snap-back: the new morph starts exactly where the picture was.
    np.testing.assert_allclose(again.y, mid.y, atol=1e-7)
    assert again.category == c and again.alpha == 0.0
    assert again.source in (a, b)
    previous = again
    for o in run_until_done(traj, feed, curve=0.2):
        assert_convex(o.y)
        assert o.y[a] <= previous.y[a] + 1e-7  # the old classes only fade
        assert o.y[b] <= previous.y[b] + 1e-7
        assert o.y[c] >= previous.y[c] - 1e-7
        # never back to the previous category's whole picture
        assert o.y[b] < 1.0
        previous = o
    assert np.array_equal(previous.y, onehot(c))


def test_y_is_continuous_through_rapid_inflections() -> None:
    morph_s = 0.5
    traj = make(quiet(morph_s=morph_s))
    feed = Feed()
    prev = traj.step(feed(20, curve=0.3))
    biggest = 0.0
    for k in range(600):
        events = [feed.inflection()] if k % 37 == 0 else []
        out = traj.step(feed(1, curve=0.3 + 0.3 * math.sin(k / 7)), events)
        assert_convex(out.y)
        biggest = max(biggest, float(np.abs(out.y - prev.y).max()))
        prev = out
    # y never moves by more than one hop at the fastest speed
    assert 0 < biggest <= MAX_SPEED * DT / morph_s + 1e-6


def test_categories_cycle_in_list_order() -> None:
    traj = make(quiet(morph_s=0.1), categories=(4, 6, 8))
    feed = Feed()
    traj.step(feed(5))
    seen = []
    for _ in range(7):
        out = traj.step([], [feed.inflection()])
        seen.append((out.category, out.upcoming))
        done = run_until_done(traj, feed)
        assert np.array_equal(done[-1].y, onehot(out.category))
    assert seen == [(6, 8), (8, 4), (4, 6), (6, 8), (8, 4), (4, 6), (6, 8)]


def test_empty_category_list_draws_a_seeded_bank() -> None:
    s = TrajectorySettings(bank_size=12, seed=3)
    traj = Trajectory(s, z_dim=Z_DIM, num_classes=1000)
    bank = traj.categories
    assert len(bank) == len(set(bank)) == 12
    assert all(0 <= c < 1000 for c in bank)
    assert Trajectory(s, z_dim=Z_DIM, num_classes=1000).categories == bank
    other = Trajectory(TrajectorySettings(bank_size=12, seed=4), z_dim=Z_DIM, num_classes=1000)
    assert other.categories != bank
    out = traj.step([])
    assert out.category == bank[0] and out.y[bank[0]] == 1.0 and out.upcoming == bank[1]


@pytest.mark.parametrize("bad", [NUM_CLASSES, -1, 1000])
def test_invalid_category_index_is_refused(bad) -> None:
    with pytest.raises(ValueError, match=str(bad)):
        make(categories=(1, bad))


def test_invalid_category_in_commands_is_refused_and_changes_nothing() -> None:
    traj = make()
    with pytest.raises(ValueError):
        traj.apply(JumpToCategory(NUM_CLASSES))
    with pytest.raises(ValueError):
        traj.apply(SetCategories((2, 99)))
    assert traj.categories == list(CATS)
    out = traj.step([])
    assert out.category == CATS[0] and out.alpha == 1.0


# -- z ------------------------------------------------------------------------------------------------


def test_constant_policy_without_motion_keeps_z() -> None:
    traj = make(quiet(z_policy="constant", morph_s=0.2))
    feed = Feed()
    z0 = traj.step([]).z
    assert z0.dtype == np.float32 and z0.shape == (Z_DIM,)
    assert np.abs(z0).max() > 0
    categories = set()
    for k in range(300):
        events = [feed.inflection()] if k % 50 == 0 else []
        out = traj.step(feed(2, curve=k / 300, level=1.0, onset=k % 3 == 0, beat=True), events)
        assert np.array_equal(out.z, z0)
        categories.add(int(np.argmax(out.y)))
    assert categories == set(CATS)  # the classes did move meanwhile


def test_per_inflection_policy_morphs_z_continuously() -> None:
    traj = make(quiet(z_policy="per-inflection", morph_s=0.5))
    feed = Feed()
    z0 = traj.step(feed(50, curve=0.2)).z
    assert np.array_equal(traj.step(feed(50, curve=0.2)).z, z0)  # no inflection: same z
    start = traj.step([], [feed.inflection()])
    assert np.array_equal(start.z, z0)  # the new z is morphed to, not jumped to
    outs = run_until_done(traj, feed, curve=0.2)
    z1 = outs[-1].z
    total = float(np.abs(z1 - z0).max())
    assert total > 0.1
    steps = [float(np.abs(b.z - a.z).max()) for a, b in zip([start, *outs], outs, strict=False)]
    assert max(steps) < 0.05 * total
    # settled: z stays at the new vector
    for o in hop_by_hop(traj, feed, 20, curve=0.2):
        assert np.array_equal(o.z, z1)


def test_z_is_truncation_times_clipped_base_and_bounded() -> None:
    s = TrajectorySettings(
        truncation=0.3, breathe=4.0, onset_pulse=4.0, beat_pulse=4.0, drift=4.0, morph_s=0.2
    )
    traj = make(s, z_dim=128)
    feed = Feed()
    hit_bound = False
    for k in range(300):
        events = [feed.onset(), feed.beat(k)] + ([feed.inflection()] if k % 40 == 0 else [])
        out = traj.step(feed(2, curve=1.0, level=1.0, onset=True, beat=True), events)
        assert out.truncation == 0.3
        assert np.abs(out.z).max() <= 2 * 0.3 + 1e-6
        hit_bound |= bool(np.isclose(np.abs(out.z).max(), 0.6))
    assert hit_bound  # the clipping was exercised


def test_truncation_scales_z() -> None:
    a = make(quiet(truncation=0.2)).step([])
    b = make(quiet(truncation=0.8)).step([])
    assert a.truncation == 0.2 and b.truncation == 0.8
    np.testing.assert_allclose(b.z, 4.0 * a.z, rtol=1e-5)
    assert np.abs(b.z).max() <= 1.6 + 1e-6


def test_breathe_moves_z_with_the_level() -> None:
    def z_at(level: float, breathe: float) -> np.ndarray:
        traj = make(quiet(breathe=breathe))
        feed = Feed()
        return traj.step(feed(100, level=level)).z  # 0.5 s: the smoothed level has settled

    z_silent = z_at(0.0, 1.0)
    assert np.array_equal(z_at(0.0, 0.0), z_silent)
    assert np.array_equal(z_at(1.0, 0.0), z_silent)  # no breathing: the level does nothing
    d1 = z_at(0.5, 0.2) - z_silent
    d2 = z_at(1.0, 0.2) - z_silent
    d3 = z_at(0.5, 0.4) - z_silent
    assert np.abs(d1).max() > 1e-3
    np.testing.assert_allclose(d2, 2 * d1, rtol=1e-3, atol=1e-6)  # proportional to the level
    np.testing.assert_allclose(d3, 2 * d1, rtol=1e-3, atol=1e-6)  # and to the amount


def z_steps(traj: Trajectory, feed: Feed, n: int, **kw) -> list[float]:
    """Distance z moves along its path in each of the next ``n`` hops (and z does move)."""
    out = []
    for _ in range(n):
        before, z0 = traj.distance, traj.step([]).z
        z1 = traj.step(feed(1, **kw)).z
        out.append(traj.distance - before)
        assert (out[-1] > 0) == (not np.array_equal(z0, z1))
    return out


@pytest.mark.parametrize("kind", ["onset", "beat"])
def test_pulse_kicks_the_speed_in_proportion_and_decays_to_a_third(kind) -> None:
    decay_hops = 48
    decay_s = decay_hops * DT  # 0.256 s

    def run(amount: float) -> tuple[float, list[float]]:
        s = quiet(pulse_decay_s=decay_s, motion_speed=1.0, **{f"{kind}_pulse": amount})
        traj = make(s, z_dim=128)
        feed = Feed()
        steady = z_steps(traj, feed, 200, flux=0.1, level=1.0)[-1]
        event = feed.onset() if kind == "onset" else feed.beat()
        traj.step(feed(1, flux=0.1, level=1.0, **{kind: True}), [event])
        return steady, z_steps(traj, feed, 3 * decay_hops, flux=0.1, level=1.0)

    steady, after = run(2.0)
    assert steady > 0
    # Right after the event z moves (1 + amount) times as fast, then the kick decays:
    # to a third of its extra speed after pulse_decay_s, a ninth after twice that.
    assert after[0] / steady == pytest.approx(3.0, rel=0.05)
    assert all(b <= a * (1 + 1e-3) for a, b in itertools.pairwise(after))
    assert after[decay_hops - 1] / steady - 1 == pytest.approx(2.0 / 3, rel=0.05)
    assert after[2 * decay_hops - 1] / steady - 1 == pytest.approx(2.0 / 9, rel=0.1)
    steady4, after4 = run(4.0)
    assert steady4 == pytest.approx(steady, rel=1e-6)
    assert after4[0] / steady == pytest.approx(5.0, rel=0.05)


def test_pulse_with_zero_amount_does_nothing() -> None:
    traj = make(quiet())
    feed = Feed()
    z0 = traj.step(feed(5)).z
    out = traj.step(feed(1, onset=True, beat=True), [feed.onset(), feed.beat()])
    assert np.array_equal(out.z, z0)


def test_drift_keeps_moving_while_there_is_sound_and_silence_is_calm() -> None:
    # contrast 3: without flux the music's own speed is next to nothing.
    s = quiet(motion_speed=1.0, drift=0.5, silence_speed=0.1, contrast=3.0)
    traj = make(s, z_dim=128)
    feed = Feed()
    # No flux at all but a level (-20 dBFS): the drift alone moves z.
    with_sound = z_steps(traj, feed, 400, level=2 / 3)[-100:]
    silence = z_steps(traj, feed, 400, level=0.0)[-100:]
    assert min(with_sound) > 0 and min(silence) > 0  # never frozen
    # Silence crawls at silence_speed of the speed heard before it: that average
    # starts at the typical 1 and has moved towards the drift's 0.5 for 401 hops, with
    # a 10 s time constant.
    heard = 0.5 + 0.5 * math.exp(-401 * DT / 10.0)
    assert np.mean(with_sound) / np.mean(silence) == pytest.approx(0.5 / (0.1 * heard), rel=0.05)


def test_silence_after_quiet_sound_is_calmer_than_after_loud_sound() -> None:
    # The same silence after 21 s of quiet sound and after 21 s of loud sound, both
    # heard from the same reference (which adapts to each over those seconds).
    def silence_after(flux: float) -> float:
        traj = make(quiet(motion_speed=1.0, drift=0.1, silence_speed=0.2, contrast=1.5))
        feed = Feed()
        traj.step(feed(200, flux=0.1, level=1.0))  # both start from the same reference
        z_steps(traj, feed, 4000, flux=flux, level=1.0)
        return float(np.mean(z_steps(traj, feed, 400, level=0.0)[-100:]))

    calm, busy = silence_after(0.02), silence_after(0.5)
    assert 0 < calm < 0.7 * busy


# -- commands -----------------------------------------------------------------------------------------


def test_next_category_is_like_an_inflection() -> None:
    s = TrajectorySettings(z_policy="per-inflection", morph_s=0.3)
    a, b = make(s), make(s)
    fa, fb = Feed(), Feed()
    for k in range(200):
        trigger = k in (20, 60, 61, 150)
        ea = [fa.inflection()] if trigger else []
        ca = [NextCategory()] if trigger else []
        oa = a.step(fa(2, curve=0.3, level=0.5), ea)
        ob = b.step(fb(2, curve=0.3, level=0.5), commands=ca)
        assert np.array_equal(oa.y, ob.y) and np.array_equal(oa.z, ob.z)
        assert (oa.category, oa.source, oa.alpha) == (ob.category, ob.source, ob.alpha)
    assert oa.inflections == 4 and ob.inflections == 0


def test_previous_category_morphs_back() -> None:
    traj = make(quiet(morph_s=0.1))
    feed = Feed()
    traj.step(feed(5))
    for _ in range(2):
        traj.step([], [feed.inflection()])
        run_until_done(traj, feed)
    at = traj.step([])
    assert at.category == CATS[2]
    back = traj.step([], commands=[PreviousCategory()])
    assert np.array_equal(back.y, at.y)  # continuous
    assert (back.source, back.category, back.alpha) == (CATS[2], CATS[1], 0.0)
    done = run_until_done(traj, feed)
    assert np.array_equal(done[-1].y, onehot(CATS[1]))
    # and the list carries on from there
    assert traj.step([], [feed.inflection()]).category == CATS[2]


def test_previous_category_at_the_start_stays_on_the_first() -> None:
    traj = make(quiet(morph_s=0.1))
    out = traj.step([], commands=[PreviousCategory()])
    assert out.category == CATS[0]
    assert np.array_equal(out.y, onehot(CATS[0]))


def test_jump_to_category_morphs_there_from_mid_morph() -> None:
    traj = make(quiet(morph_s=0.5))
    feed = Feed()
    traj.step(feed(5, curve=0.2))
    traj.step([], [feed.inflection()])
    mid = traj.step(feed(40, curve=0.2))
    assert 0 < mid.alpha < 1
    jumped = traj.step([], commands=[JumpToCategory(9)])
    np.testing.assert_allclose(jumped.y, mid.y, atol=1e-7)
    assert jumped.category == 9 and jumped.alpha == 0.0
    done = run_until_done(traj, feed, curve=0.2)
    assert np.array_equal(done[-1].y, onehot(9))
    assert traj.step([], [feed.inflection()]).category == CATS[2]


def test_set_categories_applies_from_the_next_inflection() -> None:
    traj = make(quiet(morph_s=0.5))
    feed = Feed()
    traj.step(feed(5, curve=0.2))
    traj.step([], [feed.inflection()])
    mid = traj.step(feed(30, curve=0.2))
    out = traj.step(feed(1, curve=0.2), commands=[SetCategories((8, 9))])
    assert out.category == CATS[1]  # the present morph carries on
    assert out.alpha > mid.alpha
    assert out.upcoming == 8
    done = run_until_done(traj, feed, curve=0.2)
    assert np.array_equal(done[-1].y, onehot(CATS[1]))
    seen = []
    for _ in range(3):
        seen.append(traj.step([], [feed.inflection()]).category)
        traj.step(feed(10))
    assert seen == [8, 9, 8]


def test_reseed_z_morphs_to_a_new_z() -> None:
    traj = make(quiet(morph_s=0.5))
    feed = Feed()
    z0 = traj.step(feed(20, flux=0.1, level=1.0)).z
    start = traj.step([], commands=[ReseedZ()])
    assert np.array_equal(start.z, z0)  # continuous
    assert start.category == CATS[0] and start.alpha == 1.0  # the class is untouched
    outs = [traj.step(feed(1, flux=0.1, level=1.0)) for _ in range(200)]
    total = float(np.abs(outs[-1].z - z0).max())
    assert total > 0.1
    steps = [float(np.abs(b.z - a.z).max()) for a, b in zip([start, *outs], outs, strict=False)]
    assert max(steps) < 0.05 * total
    assert np.array_equal(outs[-1].z, outs[-2].z)  # settled on the new z


def test_freeze_holds_the_output_and_release_lets_it_move() -> None:
    traj = make(TrajectorySettings(morph_s=0.5))
    feed = Feed()
    traj.step(feed(5, curve=0.2))
    traj.step([], [feed.inflection()])
    moving = traj.step(feed(20, curve=0.2, level=0.5))
    held = traj.step(feed(1, curve=0.2, level=0.5), commands=[Freeze(True)])
    assert held.frozen
    assert np.array_equal(held.y, moving.y) and np.array_equal(held.z, moving.z)
    for k in range(50):
        events = [feed.onset(), feed.inflection()] if k == 10 else []
        out = traj.step(feed(2, curve=0.9, level=1.0, onset=k == 10, beat=k == 20), events)
        assert out.frozen
        assert np.array_equal(out.y, moving.y) and np.array_equal(out.z, moving.z)
        assert out.alpha == moving.alpha and out.category == moving.category
        assert out.frame == feed.hop * HOP and out.time_s == pytest.approx(feed.time_s)
    released = traj.step(feed(1, curve=0.2, level=0.5), commands=[Freeze(False)])
    assert not released.frozen
    assert released.alpha > moving.alpha  # the morph goes on from where it was held
    assert released.alpha - moving.alpha < 0.05
    assert not np.array_equal(released.y, moving.y)
    assert released.onsets == 1 and released.inflections == 2


# -- bookkeeping --------------------------------------------------------------------------------------


def test_counters_count_the_events_passed_in() -> None:
    traj = make(quiet(morph_s=0.2))
    feed = Feed()
    first = traj.step([])
    assert (first.onsets, first.beats, first.inflections) == (0, 0, 0)
    out = traj.step(feed(3), [feed.onset(), feed.onset(), feed.beat(0), feed.inflection()])
    assert (out.onsets, out.beats, out.inflections) == (2, 1, 1)
    out = traj.step(feed(3), [feed.beat(1), feed.beat(2)])
    assert (out.onsets, out.beats, out.inflections) == (2, 3, 1)
    out = traj.step(feed(3), [feed.inflection(), feed.inflection(), feed.onset()])
    assert (out.onsets, out.beats, out.inflections) == (3, 3, 3)
    out = traj.step(feed(3))  # features alone are not events
    assert (out.onsets, out.beats, out.inflections) == (3, 3, 3)


def test_two_inflections_in_one_step_advance_two_segments() -> None:
    traj = make(quiet())
    feed = Feed()
    out = traj.step(feed(1), [feed.inflection(), feed.inflection()])
    assert out.category == CATS[2] and out.upcoming == CATS[0]


def test_time_and_frame_follow_the_newest_hop() -> None:
    traj = make()
    first = traj.step([])
    assert first.time_s == 0.0 and first.frame == 0
    feed = Feed()
    out = traj.step(feed(7))
    assert out.frame == 7 * HOP and out.time_s == pytest.approx(7 * DT)
    same = traj.step([])
    assert same.frame == out.frame and same.time_s == out.time_s


def test_set_settings_keeps_the_position() -> None:
    traj = make(quiet(morph_s=0.5))
    feed = Feed()
    traj.step(feed(5, curve=0.2))
    traj.step([], [feed.inflection()])
    mid = traj.step(feed(30, curve=0.2))
    traj.set_settings(quiet(morph_s=0.5, truncation=0.8))
    out = traj.step([])
    assert out.truncation == 0.8
    np.testing.assert_allclose(out.z, mid.z * (0.8 / 0.4), rtol=1e-5)
    assert np.array_equal(out.y, mid.y) and out.alpha == mid.alpha


def test_small_z_dim_works_or_is_refused_up_front() -> None:
    try:
        traj = make(z_dim=4)
    except ValueError:
        return
    out = traj.step(Feed()(2))
    assert out.z.shape == (4,)
