"""Known-answer signals through the streaming Analyzer."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
from seed_reference import gap_of, sections_signal

from ganterp.live.analysis.analyzer import ANALYSIS_RATE, Analyzer
from ganterp.live.analysis.features import AudioFeatures, Beat, Event, Inflection, Onset
from ganterp.live.settings.schema import AnalysisSettings, InflectionSettings

SILENCE_DB = -120.0
#: Most audio the rate converter holds back (libsoxr HQ: 42 ms at 22.05 kHz), seconds.
MAX_LATENCY_S = 0.05


def make(sr: int) -> Analyzer:
    return Analyzer(sr, AnalysisSettings(), InflectionSettings())


def assert_hop_count(features: list[AudioFeatures], n: int, sr: int, hop: int) -> None:
    """One feature per complete analysis hop of ``n`` input samples at ``sr``.

    At 44.1 kHz exactly ``n // hop``; at other rates the input is converted to the
    analysis rate first and the converter holds back up to ``MAX_LATENCY_S``.
    """
    if sr == ANALYSIS_RATE:
        assert len(features) == n // hop
        return
    full = n * ANALYSIS_RATE / sr / hop
    assert full - MAX_LATENCY_S * ANALYSIS_RATE / hop - 1 <= len(features) <= full, (
        len(features),
        full,
    )


def feed(
    analyzer: Analyzer,
    x: np.ndarray,
    block: int | str,
    *,
    origin: int = 0,
    jump_at: int | None = None,
    jump: int = 0,
) -> tuple[list[AudioFeatures], list[Event]]:
    """Feed x in blocks with start_frame = absolute index (plus ``jump`` from ``jump_at``)."""
    rng = np.random.default_rng(17)
    features: list[AudioFeatures] = []
    events: list[Event] = []
    pos = 0
    offset = origin
    while pos < x.shape[0]:
        size = int(rng.integers(1, 5000)) if block == "random" else int(block)
        if jump_at is not None and pos < jump_at < pos + size:
            size = jump_at - pos
        if jump_at is not None and pos == jump_at:
            offset += jump
        f, e = analyzer.process(x[pos : pos + size], start_frame=pos + offset)
        features += f
        events += e
        pos += size
    return features, events


def of(events: list[Event], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


def all_values(f: AudioFeatures) -> list[float]:
    return [
        f.time_s,
        f.rms_db,
        f.level,
        *f.bands_db,
        *f.bands,
        f.change,
        f.curve,
        f.bpm,
        f.pitch_hz,
        f.pitch_confidence,
    ]


# -- click trains ------------------------------------------------------------------------


def click_train(
    sr: int, bpm: float, seconds: float, *, floor: float, kind: str, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """10 ms noise bursts or decaying 1 kHz clicks at ``bpm``, over a noise floor."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    x = floor * rng.standard_normal(n)
    times = np.arange(0.25, seconds - 0.1, 60.0 / bpm)
    length = int(0.01 * sr)
    k = np.arange(length)
    for t in times:
        i = round(t * sr)
        if kind == "burst":
            x[i : i + length] += 0.5 * rng.standard_normal(length)
        else:
            x[i : i + length] += 0.8 * np.exp(-k / (0.002 * sr)) * np.sin(2 * np.pi * 1000 * k / sr)
    return x, times


CLICK_CASES = [
    (44100, 120.0, 0.0, "burst", 256),
    (44100, 100.0, 1e-3, "decay", 1000),
    (44100, 120.0, 1e-3, "burst", 4096),
    (48000, 120.0, 0.0, "decay", 512),
    (48000, 100.0, 1e-3, "burst", "random"),
    (48000, 100.0, 0.0, "burst", 1000),
]


@pytest.mark.parametrize(("sr", "bpm", "floor", "kind", "block"), CLICK_CASES)
def test_click_train_onsets_beats_tempo(
    sr: int, bpm: float, floor: float, kind: str, block: int | str
) -> None:
    seconds = 20.0
    x, clicks = click_train(sr, bpm, seconds, floor=floor, kind=kind)
    analyzer = make(sr)
    features, events = feed(analyzer, x, block)
    onsets = np.array([e.time_s for e in of(events, Onset)])

    # Every click: exactly one onset within 50 ms.
    for t in clicks:
        assert np.count_nonzero(np.abs(onsets - t) <= 0.05) == 1, t
    # No onset elsewhere; a noise floor that starts with the stream may give one at its
    # very start (sound begins there).
    stray = [t for t in onsets if np.min(np.abs(clicks - t)) > 0.05]
    assert all(t <= 0.05 for t in stray) and len(stray) <= (1 if floor else 0), stray
    hop_frames = {f.frame for f in features}
    for e in of(events, Onset):
        assert e.frame in hop_frames  # stamped with the hop where it was found
        assert e.time_s <= e.frame / sr + 1e-12
    assert [f.onset for f in features].count(True) == len(onsets)

    # Beats once the tracker has settled (last half): at the beat period.
    period = 60.0 / bpm
    beats = np.array([e.time_s for e in of(events, Beat) if e.time_s > seconds / 2])
    intervals = np.diff(beats)
    expected_count = (seconds / 2) / period
    assert abs(len(beats) - expected_count) <= 1.5, (len(beats), expected_count)
    assert abs(np.median(intervals) / period - 1) <= 0.02, intervals / period
    assert abs(np.mean(intervals) / period - 1) <= 0.02, intervals / period
    # Each interval: no missed or doubled beat. (Not ±2 %: beats fall on aubio's
    # 2-hop tempo grid, 10.7-11.6 ms = 2.1-2.3 % of 500 ms, and aubio re-phases in
    # steps of a few hops; aubio's own beat times vary by up to 7 % here.)
    assert np.all(np.abs(intervals / period - 1) <= 0.1), intervals / period
    assert [e.index for e in of(events, Beat)] == list(range(len(of(events, Beat))))
    assert abs(features[-1].bpm / bpm - 1) <= 0.02, features[-1].bpm
    # Beats are stamped on the hop where they fall.
    beat_frames = {e.frame for e in of(events, Beat)}
    assert beat_frames == {f.frame for f in features if f.beat}


def test_events_do_not_depend_on_block_size() -> None:
    sr = 44100
    x, _ = click_train(sr, 120.0, 8.0, floor=1e-3, kind="decay", seed=3)
    runs = []
    for block in (256, 512, 1000, 4096, "random"):
        features, events = feed(make(sr), x, block)
        runs.append(
            (
                of(events, Onset),
                of(events, Beat),
                [(f.frame, f.rms_db, f.onset, f.beat, f.bpm, f.pitch_hz) for f in features],
            )
        )
    for run in runs[1:]:
        assert run == runs[0]


# -- sections and inflections ------------------------------------------------------------

BUSY = (["noise", "bursts", "lowpass", "chord"], [1.0, 1.0, 1.0], 0.0)
MIXED = (["chord", "noise", "bursts", "lowpass"], [1.0, 0.9, 1.1], 1e-4)


@pytest.mark.parametrize(
    ("sr", "signal", "block", "found"),
    [
        (44100, BUSY, 1000, [0, 1, 2]),
        (44100, BUSY, 256, [0, 1, 2]),
        (44100, MIXED, 4096, [0, 1, 2]),
        (48000, BUSY, 512, None),
        (48000, MIXED, "random", None),
    ],
)
def test_sections_inflections_at_gaps(
    sr: int, signal: tuple, block: int | str, found: list[int] | None
) -> None:
    kinds, gaps_s, gap_noise = signal
    x, spans = sections_signal(sr, kinds, gaps_s, gap_noise=gap_noise)
    analyzer = make(sr)
    features, events = feed(analyzer, x, block)
    geometry = analyzer.geometry
    hop = analyzer.inflection_settings.spectral_hop
    inflections = of(events, Inflection)
    # Columns are analysis-rate columns: the gaps' spans in analysis samples.
    rate = analyzer.analysis_rate
    spans = [(round(a * rate / sr), round(b * rate / sr)) for a, b in spans]
    gaps = [
        gap_of(i.index, spans, smoothing=geometry.smoothing, hop=hop, nfft=256) for i in inflections
    ]
    assert None not in gaps, ([i.index for i in inflections], spans)
    assert len(set(gaps)) == len(gaps)  # at most one per gap
    if found is not None:
        assert gaps == found
    else:
        assert len(gaps) >= 2, gaps
    for inf in inflections:
        assert inf.time_s == pytest.approx(inf.index * hop / rate, rel=1e-12)
        assert inf.decided_index == inf.index + geometry.lookahead
        assert inf.strength > analyzer.inflection_settings.threshold
    # Reported once decided: the event comes with the hop that completes that column.
    assert_hop_count(features, x.shape[0], sr, analyzer.hop)
    # curve and change are normalised values.
    assert all(0.0 <= f.curve <= 1.0 and 0.0 <= f.change <= 1.0 for f in features)
    assert max(f.curve for f in features) > 0.1


# -- degenerate signals ------------------------------------------------------------------


@pytest.mark.parametrize("sr", [44100, 48000])
def test_silence(sr: int) -> None:
    analyzer = make(sr)
    features, events = feed(analyzer, np.zeros(3 * sr), 512)
    assert events == []
    assert_hop_count(features, 3 * sr, sr, analyzer.hop)
    for f in features:
        assert f.rms_db == SILENCE_DB
        assert f.level == 0.0
        assert not f.onset and not f.beat
        assert f.bands_db == (SILENCE_DB, SILENCE_DB, SILENCE_DB)
        assert f.bands == (0.0, 0.0, 0.0)
        assert f.change == 0.0 and f.curve == 0.0
        assert f.pitch_hz == 0.0
        assert f.bad_samples == 0


def test_dc_offset() -> None:
    sr = 44100
    analyzer = make(sr)
    features, events = feed(analyzer, np.full(4 * sr, 0.5), 1000)
    assert [e for e in of(events, Onset) if e.time_s > 1.0] == []
    for f in features:
        assert f.rms_db == pytest.approx(20 * math.log10(0.5), abs=0.1)
        assert all(math.isfinite(v) for v in all_values(f))
    assert of(events, Inflection) == []


def test_square_wave_at_full_scale() -> None:
    sr = 44100
    t = np.arange(3 * sr)
    x = np.where((t % 441) < 220.5, 1.0, -1.0)  # 100 Hz, exactly ±1
    analyzer = make(sr)
    features, _ = feed(analyzer, x, 4096)
    for f in features:
        assert f.rms_db == pytest.approx(0.0, abs=0.5)
        assert f.level == 1.0
        assert all(math.isfinite(v) for v in all_values(f))


@pytest.mark.parametrize("sr", [44100, 48000])
def test_overdriven_sine_is_clipped(sr: int) -> None:
    x = 4.0 * np.sin(2 * np.pi * 440.0 * np.arange(2 * sr) / sr)
    analyzer = make(sr)
    features, _ = feed(analyzer, x, 1000)
    hop = analyzer.hop
    clipped = np.clip(x, -1.0, 1.0)
    for k, f in enumerate(features):
        if sr == ANALYSIS_RATE:  # (elsewhere the hops are of the converted, band-limited signal)
            seg = clipped[k * hop : (k + 1) * hop]
            assert f.rms_db == pytest.approx(10 * math.log10(np.mean(seg**2)), abs=0.01)
        assert -0.6 < f.rms_db <= 0.0
        assert all(math.isfinite(v) for v in all_values(f))
    mean_power = np.mean([10 ** (f.rms_db / 10) for f in features])
    assert 10 * math.log10(mean_power) == pytest.approx(0.0, abs=0.5)


@pytest.mark.parametrize("block", [256, 1000, 4096])
def test_nan_and_inf_samples(block: int) -> None:
    sr = 44100
    x = 0.3 * np.sin(2 * np.pi * 440.0 * np.arange(3 * sr) / sr)
    rng = np.random.default_rng(block)
    where = rng.choice(x.shape[0], size=60, replace=False)
    x[where[:20]] = np.nan
    x[where[20:40]] = np.inf
    x[where[40:]] = -np.inf
    x[-5:] = np.nan  # in the unfinished last hop: counted, not yet reported
    analyzer = make(sr)
    features, events = feed(analyzer, x, block)
    assert len(features) == x.shape[0] // analyzer.hop
    for f in features:
        assert all(math.isfinite(v) for v in all_values(f))
    for e in events:
        assert math.isfinite(e.time_s)
    assert analyzer.bad_samples == 65
    # Every bad sample of a completed hop's call is reported once.
    reported = sum(f.bad_samples for f in features)
    assert reported in (60, 65)
    more, _ = analyzer.process(np.zeros(analyzer.hop), start_frame=x.shape[0])
    assert reported + sum(f.bad_samples for f in more) == 65


@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_huge_finite_samples_are_clipped_not_bad() -> None:
    analyzer = make(44100)
    features, _ = analyzer.process(np.full(512, 1e39), start_frame=0)
    assert analyzer.bad_samples == 0
    assert [f.rms_db for f in features] == [0.0, 0.0]


# -- bookkeeping -------------------------------------------------------------------------


@pytest.mark.parametrize(("sr", "block"), [(44100, 1000), (48000, 256), (22050, "random")])
def test_features_count_times_and_frozen(sr: int, block: int | str) -> None:
    n = 2 * sr + 123
    x = 0.1 * np.random.default_rng(0).standard_normal(n)
    analyzer = make(sr)
    features, events = feed(analyzer, x, block, origin=5000)
    hop = analyzer.hop
    assert_hop_count(features, n, sr, hop)
    assert analyzer.frame == 5000 + n
    for k, f in enumerate(features):
        # The input frame at the end of analysis hop k (the same number at 44.1 kHz).
        assert f.frame == 5000 + round((k + 1) * hop * sr / ANALYSIS_RATE)
        assert f.time_s == f.frame / sr
        assert isinstance(f.rms_db, float) and isinstance(f.frame, int)
    with pytest.raises(dataclasses.FrozenInstanceError):
        features[0].rms_db = 0.0  # type: ignore[misc]
    assert dataclasses.is_dataclass(features[0])
    assert analyzer.gaps == 0
    for e in events:
        with pytest.raises(dataclasses.FrozenInstanceError):
            e.time_s = 0.0  # type: ignore[misc]


def test_gap_in_frame_numbers() -> None:
    sr = 44100
    x, clicks = click_train(sr, 120.0, 4.0, floor=0.0, kind="burst")
    analyzer = make(sr)
    cut, jump = 2 * sr + 100, 10_000
    features, events = feed(analyzer, x, 1000, jump_at=cut, jump=jump)
    assert analyzer.gaps == 1
    hop = analyzer.hop
    before = [f for f in features if f.frame <= cut]
    after = [f for f in features if f.frame > cut + jump]
    assert len(before) + len(after) == len(features)
    assert before[-1].frame == cut // hop * hop  # the unfinished hop is dropped
    assert after[0].frame == cut + jump + hop
    assert [f.frame for f in after] == list(range(cut + jump + hop, x.shape[0] + jump + 1, hop))
    for f in features:
        assert f.time_s == f.frame / sr
    # Onsets follow the new numbering: clicks after the cut come `jump` samples later.
    onsets = np.array([e.time_s for e in of(events, Onset)])
    shifted = np.where(clicks * sr > cut, clicks + jump / sr, clicks)
    assert len(onsets) == len(shifted)
    assert np.all(np.abs(onsets - shifted) <= 0.05)
    # Fed again from the expected frame: no new gap.
    analyzer.process(np.zeros(1000), start_frame=analyzer.frame)
    assert analyzer.gaps == 1


def _busy_with_gap(cut: int, block: int) -> tuple[list[Inflection], int]:
    sr = 44100
    kinds, gaps_s, gap_noise = BUSY
    x, _ = sections_signal(sr, kinds, gaps_s, gap_noise=gap_noise)
    analyzer = make(sr)
    jump = 10_000
    _, events = feed(analyzer, x, block, jump_at=cut, jump=jump)
    assert analyzer.gaps == 1
    return of(events, Inflection), jump


def test_inflection_before_a_gap_keeps_its_time() -> None:
    # Without a gap the first inflection is column 1636 (4.748 s), decided at column 1836
    # (sample 235008); the jump comes between the two, at sample 220000.
    inflections, _ = _busy_with_gap(cut=220_000, block=1000)
    first = inflections[0]
    assert first.index * 128 < 220_000 < first.decided_index * 128
    assert first.time_s == pytest.approx(first.index * 128 / 44100, rel=1e-12)


def test_inflection_after_a_gap_follows_new_frames() -> None:
    cut = 300_000  # 1171 hops of 256 and 224 samples: the unfinished hop is dropped
    inflections, jump = _busy_with_gap(cut=cut, block=1000)
    fed_before = cut // 256 * 256  # samples the spectral stream got before the jump
    later = [i for i in inflections if i.index * 128 >= fed_before]
    assert len(later) == 2
    for inf in later:
        # Column start in the stream -> the same sample of x -> its frame after the jump.
        frame = cut + (inf.index * 128 - fed_before) + jump
        assert inf.time_s == pytest.approx(frame / 44100, rel=1e-12)


def test_inflection_after_an_aligned_gap_follows_new_frames() -> None:
    """With the jump on the hop grid (nothing dropped) post-gap times are right."""
    cut = 299_008  # 1168 hops of 256, a multiple of the 1024-sample blocks too
    inflections, jump = _busy_with_gap(cut=cut, block=1024)
    later = [i for i in inflections if i.index * 128 >= cut]
    assert len(later) == 2
    for inf in later:
        frame = inf.index * 128 + jump
        assert inf.time_s == pytest.approx(frame / 44100, rel=1e-12)


# -- channels, bands, pitch --------------------------------------------------------------


def test_stereo_equals_mono_mix() -> None:
    sr = 48000
    rng = np.random.default_rng(9)
    clicks, _ = click_train(sr, 110.0, 3.0, floor=1e-3, kind="decay")
    tone = 0.2 * np.sin(2 * np.pi * 330.0 * np.arange(clicks.shape[0]) / sr)
    # 16-bit values: (L + R) / 2 is exact in float32 and float64 alike.
    left = np.round(np.clip(clicks + tone, -1, 1) * 32767) / 32768
    other = 0.15 * np.sin(2 * np.pi * 550.0 * np.arange(clicks.shape[0]) / sr)
    other += rng.uniform(-0.001, 0.001, clicks.shape[0])
    right = np.round(other * 32767) / 32768
    stereo = np.stack([left, right], axis=1)
    mono = (left + right) / 2
    f_stereo, e_stereo = feed(make(sr), stereo, 1000)
    f_mono, e_mono = feed(make(sr), mono, 1000)
    assert_hop_count(f_stereo, clicks.shape[0], sr, 256)
    assert f_stereo == f_mono
    assert e_stereo == e_mono
    assert len(of(e_mono, Onset)) >= 5
    # A single-column 2-D input is that channel.
    f_one, _ = feed(make(sr), left[:, None], 1000)
    f_left, _ = feed(make(sr), left, 1000)
    assert f_one == f_left


@pytest.mark.parametrize(("freq", "band"), [(100.0, 0), (1000.0, 1), (8000.0, 2)])
@pytest.mark.parametrize("sr", [44100, 48000])
def test_band_levels(sr: int, freq: float, band: int) -> None:
    x = 0.5 * np.sin(2 * np.pi * freq * np.arange(sr) / sr)
    features, _ = feed(make(sr), x, 1000)
    for f in features[-50:]:
        levels = f.bands_db
        others = [levels[k] for k in range(3) if k != band]
        assert levels[band] > max(others) + 20, levels
        # A full-scale sine's band level is near its RMS level (-9 dBFS at 0.5).
        assert levels[band] == pytest.approx(f.rms_db, abs=3.0)
        assert f.bands[band] > 0.8


@pytest.mark.parametrize("sr", [44100, 48000])
def test_pitch_of_a_sine(sr: int) -> None:
    x = 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(sr) / sr)
    features, _ = feed(make(sr), x, 512)
    for f in features[-40:]:
        assert f.pitch_hz == pytest.approx(440.0, rel=0.02)


@pytest.mark.parametrize("sr", [44100, 48000])
def test_pitch_confidence_of_a_sine(sr: int) -> None:
    x = 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(sr) / sr)
    features, _ = feed(make(sr), x, 512)
    for f in features[-40:]:
        assert f.pitch_confidence > 0.8
