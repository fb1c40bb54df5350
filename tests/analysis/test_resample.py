"""The streaming rate converter to the analysis rate (libsoxr)."""

from __future__ import annotations

import numpy as np
import pytest

from ganterp.live.analysis.resample import StreamResampler

RATES = [22050, 32000, 48000, 96000]


def stream(
    r: StreamResampler, x: np.ndarray, block: int | str, *, flush: bool = True
) -> np.ndarray:
    """Feed ``x`` in blocks (``"random"``: 1 to 5000 samples); the output joined."""
    rng = np.random.default_rng(5)
    parts = []
    pos = 0
    while pos < x.shape[0]:
        size = int(rng.integers(1, 5000)) if block == "random" else int(block)
        parts.append(r.process(x[pos : pos + size]))
        pos += size
    if flush:
        parts.append(r.flush())
    return np.concatenate(parts)


def test_passthrough_at_the_same_rate_returns_the_input() -> None:
    r = StreamResampler(44100, 44100)
    assert r.passthrough
    x = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    y = r.process(x)
    assert y is x  # no copy
    assert r.delay == 0.0 and r.delay_s == 0.0
    assert (r.consumed, r.produced) == (1000, 1000)
    assert r.flush().shape == (0,)
    assert r.input_position(123.0) == 123.0


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("freq", [100.0, 1000.0, 8000.0])
def test_a_sine_keeps_its_frequency_and_level(rate: int, freq: float) -> None:
    n = 2 * rate
    x = (0.5 * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.float32)
    y = stream(StreamResampler(rate, 44100), x, 1024)
    assert y.shape[0] == round(n * 44100 / rate)
    mid = y[4410:-4410].astype(np.float64)  # away from the stream's ends
    # Frequency: the spectrum's peak, interpolated between bins.
    window = np.hanning(mid.shape[0])
    spectrum = np.abs(np.fft.rfft(mid * window))
    k = int(np.argmax(spectrum))
    a, b, c = np.log(spectrum[k - 1 : k + 2])
    peak_hz = (k + 0.5 * (a - c) / (a - 2 * b + c)) * 44100 / mid.shape[0]
    assert peak_hz == pytest.approx(freq, rel=1e-4)
    # Level: the RMS of a 0.5 sine, within 0.01 dB; and the phase is where it belongs.
    level_db = 20 * np.log10(np.sqrt(np.mean(mid**2)) / (0.5 / np.sqrt(2)))
    assert level_db == pytest.approx(0.0, abs=0.01)
    t = np.arange(y.shape[0]) / 44100
    expected = 0.5 * np.sin(2 * np.pi * freq * t)
    assert np.max(np.abs(y[4410:-4410] - expected[4410:-4410])) < 1e-3


@pytest.mark.parametrize("rate", RATES)
@pytest.mark.parametrize("block", [1, 7, 256, 1000, 4096, "random"])
def test_blocks_of_any_size_give_the_same_output(rate: int, block: int | str) -> None:
    x = (0.1 * np.random.default_rng(1).standard_normal(rate // 2)).astype(np.float32)
    whole = stream(StreamResampler(rate, 44100), x, x.shape[0])
    assert np.array_equal(stream(StreamResampler(rate, 44100), x, block), whole)


@pytest.mark.parametrize("rate", RATES)
def test_output_sample_j_is_the_input_at_j_times_the_rate_ratio(rate: int) -> None:
    """No offset enters: a smooth pulse comes out centred where its time says."""
    r = StreamResampler(rate, 44100)
    centres = (1000.0, 7777.3, rate / 2 + 0.5)  # input samples
    i = np.arange(rate)
    sigma = 0.0004 * rate  # 0.4 ms: well inside both bands
    x = sum(np.exp(-0.5 * ((i - c) / sigma) ** 2) for c in centres).astype(np.float32)
    y = stream(r, x, 512).astype(np.float64)
    j = np.arange(y.shape[0])
    for c in centres:
        expected = c * 44100 / rate
        near = np.abs(j - expected) < 20 * sigma * 44100 / rate
        centroid = float(np.sum(j[near] * y[near]) / np.sum(y[near]))
        assert centroid == pytest.approx(expected, abs=0.01)
        assert r.input_position(expected) == pytest.approx(c, abs=1e-9)


@pytest.mark.parametrize("rate", [22050, 48000])
def test_reported_delay_is_the_output_held_back(rate: int) -> None:
    r = StreamResampler(rate, 44100)
    x = (0.1 * np.random.default_rng(2).standard_normal(rate)).astype(np.float32)
    got = 0
    delays = []
    for pos in range(0, x.shape[0], 1024):
        got += r.process(x[pos : pos + 1024]).shape[0]
        assert r.produced == got
        assert r.delay == pytest.approx(r.consumed * 44100 / rate - got, abs=1e-6)
        delays.append(r.delay_s)
    # Some latency, and not much: libsoxr HQ holds back tens of milliseconds at most.
    assert 0.0 < np.mean(delays) < 0.05 and max(delays) < 0.05
    # What is held back comes out at the end, to the whole length.
    owed = r.delay
    tail = r.flush()
    assert tail.shape[0] == pytest.approx(owed, abs=1)
    assert got + tail.shape[0] == round(x.shape[0] * 44100 / rate)


def test_flush_starts_a_new_stream() -> None:
    r = StreamResampler(48000, 44100)
    x = (0.1 * np.random.default_rng(3).standard_normal(9600)).astype(np.float32)
    first = stream(r, x, 1000)
    assert (r.consumed, r.produced) == (0, 0)
    again = stream(r, x, 1000)
    assert np.array_equal(first, again)
    r.process(x[:500])
    r.reset()
    assert np.array_equal(stream(r, x, 1000), first)


@pytest.mark.parametrize("rate", [0, -44100, 44100.5, True])
def test_bad_rates_are_refused_in_one_line(rate: object) -> None:
    with pytest.raises(ValueError, match=r"^in_rate must be a positive whole number of Hz, not "):
        StreamResampler(rate, 44100)  # type: ignore[arg-type]


def test_multichannel_input_is_refused() -> None:
    r = StreamResampler(48000, 44100)
    with pytest.raises(ValueError, match=r"one-dimensional \(mono\)"):
        r.process(np.zeros((10, 2), dtype=np.float32))
