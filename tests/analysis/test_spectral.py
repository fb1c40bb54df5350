"""The spectral-change measure against matplotlib and the original's formula."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import mlab
from seed_reference import reference_tv_diffs

from ganterp.live.analysis.spectral import SpectralChangeStream, power_spectrogram, spectral_change


def _signal(kind: str, n: int, fs: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    if kind == "noise":
        return 0.3 * rng.standard_normal(n)
    if kind == "chirp":
        return 0.5 * np.sin(2 * np.pi * (100.0 + 2000.0 * t) * t)
    if kind == "sections":
        x = 0.3 * rng.standard_normal(n)
        x[n // 3 : n // 2] = 0.0
        x[n // 2 :] = 0.4 * np.sin(2 * np.pi * 440.0 * t[n // 2 :])
        return x
    if kind == "int16":
        return (rng.standard_normal(n) * 3000).astype(np.int16)
    raise ValueError(kind)


CASES = [
    (44100, "noise", 44100),
    (44100, "chirp", 256 * 40 + 77),  # not a multiple of the hop
    (48000, "sections", 48000 + 129),
    (48000, "noise", 256),  # exactly one column
    (22050, "chirp", 22050 + 1),
    (22050, "int16", 384),  # two columns
    (44100, "sections", 128 * 101 + 255),
]


# matplotlib warns when a signal holds a single segment: one case does so on purpose.
@pytest.mark.filterwarnings("ignore:Only one segment")
@pytest.mark.parametrize(("fs", "kind", "n"), CASES)
def test_power_spectrogram_equals_matplotlib(fs: int, kind: str, n: int) -> None:
    x = _signal(kind, n, fs)
    expected = mlab.specgram(x.astype(np.float64), NFFT=256, Fs=fs, noverlap=128)[0]
    got = power_spectrogram(x, sample_rate=fs)
    assert got.shape == expected.shape == (129, (n - 256) // 128 + 1)
    assert got.dtype == np.float64
    # rtol 1e-10 on every bin that holds energy; bins 10+ orders of magnitude below the
    # column's peak hold only FFT rounding noise (~1e-16 of the peak), hence the tiny atol.
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-14 * float(np.max(expected)))


# matplotlib warns when a signal holds a single segment: one case does so on purpose.
@pytest.mark.filterwarnings("ignore:Only one segment")
@pytest.mark.parametrize(("fs", "kind", "n"), CASES)
def test_spectral_change_equals_original_formula(fs: int, kind: str, n: int) -> None:
    x = _signal(kind, n, fs)
    spectrum = mlab.specgram(x.astype(np.float64), NFFT=256, Fs=fs, noverlap=128)[0]
    expected = reference_tv_diffs(spectrum)
    got = spectral_change(power_spectrogram(x, sample_rate=fs))
    assert got.shape == (spectrum.shape[1] - 1,)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=0)
    # On the very same spectrogram the formula agrees to rounding.
    np.testing.assert_allclose(spectral_change(spectrum), expected, rtol=1e-12, atol=0)


def test_spectral_change_is_not_trivial() -> None:
    """Silence gives zero change, noise a positive one, louder noise a larger one."""
    fs = 44100
    assert np.all(spectral_change(power_spectrogram(np.zeros(4096), sample_rate=fs)) == 0)
    noise = _signal("noise", 4096, fs)
    quiet = spectral_change(power_spectrogram(noise, sample_rate=fs))
    loud = spectral_change(power_spectrogram(2 * noise, sample_rate=fs))
    assert np.all(quiet > 0)
    np.testing.assert_allclose(loud, 4 * quiet, rtol=1e-12)


def _feed(stream: SpectralChangeStream, x: np.ndarray, sizes: list[int]) -> np.ndarray:
    out = []
    pos = 0
    k = 0
    while pos < x.shape[0]:
        size = sizes[k % len(sizes)]
        k += 1
        values = stream.push(x[pos : pos + size])
        assert values.ndim == 1
        assert values.dtype == np.float64
        out.append(values)
        pos += size
    return np.concatenate(out)


BLOCKINGS = [
    [1],
    [7],
    [128],
    [255, 1, 256, 257],
    [1000],
    [4096],
    "random",
]


@pytest.mark.parametrize("blocking", BLOCKINGS, ids=str)
@pytest.mark.parametrize(("fs", "kind", "n"), [c for c in CASES if c[2] > 2000])
def test_stream_equals_offline(fs: int, kind: str, n: int, blocking: list[int] | str) -> None:
    x = _signal(kind, n, fs)
    if blocking == "random":
        rng = np.random.default_rng(n)
        sizes = [int(s) for s in rng.choice([0, 1, 3, 7, 128, 129, 1000, 4096], size=400)]
    else:
        sizes = list(blocking)
    if blocking == [1] and n > 30000:
        x = x[:20000]  # one sample at a time is slow; the property does not need more
    expected = spectral_change(power_spectrogram(x, sample_rate=fs))
    stream = SpectralChangeStream(sample_rate=fs)
    got = _feed(stream, x, sizes)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)
    assert stream.columns == (x.shape[0] - 256) // 128 + 1


def test_stream_emits_each_value_as_soon_as_computable() -> None:
    """Value d_i needs columns i and i+1, i.e. samples up to 128 * (i + 1) + 256."""
    fs = 44100
    x = _signal("noise", 3000, fs)
    stream = SpectralChangeStream(sample_rate=fs)
    emitted = 0
    for n in range(1, x.shape[0] + 1):
        emitted += stream.push(x[n - 1 : n]).shape[0]
        columns = (n - 256) // 128 + 1 if n >= 256 else 0
        assert emitted == max(columns - 1, 0), n


@pytest.mark.parametrize("n", [0, 1, 100, 255])
def test_short_signals_yield_nothing(n: int) -> None:
    fs = 44100
    x = _signal("noise", max(n, 1), fs)[:n]
    spec = power_spectrogram(x, sample_rate=fs)
    assert spec.shape == (129, 0)
    assert spectral_change(spec).shape == (0,)
    stream = SpectralChangeStream(sample_rate=fs)
    assert stream.push(x).shape == (0,)
    assert stream.push(np.zeros(0)).shape == (0,)
    assert stream.columns == 0


def test_stream_one_column_then_more() -> None:
    """Exactly one column gives no value; the next column gives the first one."""
    fs = 48000
    x = _signal("noise", 256 + 128, fs)
    stream = SpectralChangeStream(sample_rate=fs)
    assert stream.push(x[:256]).shape == (0,)
    assert stream.columns == 1
    d = stream.push(x[256:])
    expected = spectral_change(power_spectrogram(x, sample_rate=fs))
    assert d.shape == (1,)
    np.testing.assert_allclose(d, expected, rtol=1e-12)


def test_stream_rejects_bad_geometry() -> None:
    with pytest.raises(ValueError):
        SpectralChangeStream(sample_rate=44100, hop=0)
    with pytest.raises(ValueError):
        SpectralChangeStream(sample_rate=44100, nfft=0)
