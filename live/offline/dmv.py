"""A peer for the benchmark: deep-music-visualizer's audio → (z, y) mapping.

This re-implements the mapping of msieg/deep-music-visualizer's
``deep_visualizer.py`` as published in October 2019 (the revision with
``pitch_sensitivity`` 50, ``tempo_sensitivity`` 0.2, ``smooth_factor`` 10,
jitters renewed every 100 frames and the chroma gradient in the class update),
written from its description, with numpy only (no librosa).

The published algorithm, per analysis frame ``i`` (hop 512 samples at
22050 Hz, about 43.07 frames per second):

* Power: ``specm`` is the mean over 128 Slaney mel bands (fmax 8 kHz) of a
  2048-point power STFT; ``gradm = gradient(specm) / max(gradient(specm))``
  clipped at 0; ``specm`` is then scaled to ``[0, 1]`` over the file.
* Pitch: a 12 × T chromagram, each frame scaled so its maximum is 1, its
  gradient along time, and ``chromasort``: the pitch classes by mean power,
  strongest first. Pitch class ``p`` drives the ImageNet class ``classes[p]``.
* Noise: z starts as a truncated normal in ``[-2, 2]`` × truncation; each unit
  moves towards zero first, by ``tempo_sensitivity × (gradm + specm) × jitter``,
  smoothed 1:3 with the previous step, and turns round when it passes
  ``±(2 × truncation − tempo_sensitivity)``. About half the units move at
  ``1 − jitter`` of the speed, re-drawn every 100 frames.
* Classes: each of the 12 classes is updated as
  ``(last + (chroma + chroma_gradient) / pitch_sensitivity) / (1 + 2 / pitch_sensitivity)``,
  the vector is rescaled so its smallest used class is 0 and its largest 1,
  nudged when only one value is left, and multiplied by ``depth``. The class
  vectors are then smoothed by interpolating between the means of consecutive
  bins of ``smooth_factor`` frames (the noise vectors are not smoothed). Both
  lists start with the initial vector, so frame ``k`` uses the vectors after
  ``k`` analysis frames.

Departures from the original (each is deliberate):

* Rates. Any sample rate and any frame rate ``fps``: frame ``i`` is centred at
  sample ``round(i × sample_rate / fps)`` (a fractional hop; the STFT is taken
  at those rounded centres), instead of resampling to 22050 Hz and hopping 512
  samples. The per-frame parameters were defined at ``reference_fps`` =
  22050/512 fps; at another ``fps``, ``tempo_sensitivity`` is multiplied by
  ``reference_fps / fps`` (the same speed per second, as the later upstream
  version does through its frame length), and so are the turning bounds that
  use it; ``smooth_factor`` becomes ``max(2, round(smooth_factor × fps /
  reference_fps))`` and the jitter period ``max(1, round(jitter_every × fps /
  reference_fps))``, so both keep their duration. The 1:3 update smoothing
  and ``pitch_sensitivity`` stay per frame as published (the class vectors'
  own lag is therefore a number of frames, not of seconds; the later upstream
  version scales ``pitch_sensitivity`` with the frame rate, this one does not).
* Mel spectrogram: librosa's Slaney mel filterbank (Slaney scale, area
  normalisation, fmin 0, fmax 8 kHz) over a power STFT of the mono signal with
  a periodic Hann window of 2048 samples at 22050 Hz, i.e. about 92.9 ms; at
  other rates the window keeps that duration (``round(0.0929 s ×
  sample_rate)`` samples) and is zero-padded, centred, to the next power of
  two, as librosa does when ``win_length < n_fft``. Frames are centred with
  reflection padding (librosa's old ``center=True`` default).
* Chroma: ``chroma_cqt`` is replaced by an STFT chromagram: the power STFT over
  a window of 4096 samples at 22050 Hz (the same duration at other rates) is
  folded into 12 pitch classes by a filterbank built like
  ``librosa.filters.chroma`` (A440 tuning, Gaussian weights a semitone wide
  around each bin's pitch class, an octave weighting centred on 880 Hz two
  octaves wide), with bins below 55 Hz dropped; each frame is scaled so its
  maximum is 1 (a silent frame stays all zero).
* Randomness: a ``numpy.random.Generator`` seeded by ``seed`` draws the
  initial noise (a standard normal truncated to ``[-2, 2]`` by rejection) and
  then the jitters; the result is deterministic.
* The degenerate-class nudge: the original adds 0.01 to index
  ``chromasort[0]`` of the 1000-long vector (a pitch index used as a class
  index, a bug); this adds it to ``classes[chromasort[0]]``, the class the
  strongest pitch drives, which is what the comment says it is for. Where the
  original would crash or produce NaN (every class at the same value, or all
  zero), the vector becomes 0 with that nudge.
* Guards: a flat power curve gives ``specm = 0``; a gradient that never rises
  gives ``gradm = 0`` (the original divides by zero or by a negative maximum).
* Length: exactly ``n_frames`` frames come out. z is the first ``n_frames``
  noise vectors (frame ``k`` ↔ time ``k / fps``); y the first ``n_frames``
  smoothed class vectors. Either is padded by repeating its last vector when
  the audio is shorter; when the file is too short for two smoothing bins,
  y is the mean class vector, repeated.
* Sizes: ``z_dim`` and ``num_classes`` are arguments (128 and 1000 in the
  original); ``classes`` must be given (the original may draw 12 at random),
  is cycled when shorter than 12, and only its first 12 are used.
* ``smooth_factor = 1`` means no smoothing, as in the later upstream version
  (this revision would divide by zero).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ganterp.live.audio.channels import to_mono
from ganterp.live.trajectory import truncated_normal

N_PITCHES = 12
"""Pitch classes, C = 0 … B = 11; each drives one ImageNet class."""

REFERENCE_SAMPLE_RATE = 22050
MEL_WINDOW_S = 2048 / REFERENCE_SAMPLE_RATE
"""The mel STFT's window, seconds (2048 samples at 22050 Hz)."""
CHROMA_WINDOW_S = 4096 / REFERENCE_SAMPLE_RATE
"""The chroma STFT's window, seconds (4096 samples at 22050 Hz)."""
CHROMA_MIN_HZ = 55.0
"""STFT bins below this frequency take no part in the chromagram."""

_BLOCK_FRAMES = 256


@dataclass(frozen=True)
class DmvSettings:
    """The original's parameters, at their published defaults.

    Attributes
    ----------
    pitch_sensitivity : float
        How slowly the class vector follows the chromagram (per frame).
    tempo_sensitivity : float
        The noise step per frame at ``reference_fps``, in z units, for power
        plus power gradient of 1.
    depth : float
        Scale of the class vector.
    jitter : float
        The slowed half of the noise units move at ``1 − jitter`` of the speed.
    truncation : float
        BigGAN truncation: scales the initial noise and the turning bounds, and
        is passed to the generator.
    smooth_factor : int
        Bin of the class-vector smoothing, frames at ``reference_fps``.
    jitter_every : int
        Frames (at ``reference_fps``) between two draws of the jitters.
    reference_fps : float
        The frame rate the parameters are defined at, frames per second.
    """

    pitch_sensitivity: float = 50.0
    tempo_sensitivity: float = 0.2
    depth: float = 1.0
    jitter: float = 0.5
    truncation: float = 1.0
    smooth_factor: int = 10
    jitter_every: int = 100
    reference_fps: float = 22050 / 512


def frame_count(n_samples: int, sample_rate: float, fps: float) -> int:
    """Analysis frames for a signal: one per centre ``i / fps`` within it.

    Parameters
    ----------
    n_samples : int
        Length of the signal, samples.
    sample_rate : float
        Hz.
    fps : float
        Frames per second.

    Returns
    -------
    int
        ``1 + floor(n_samples × fps / sample_rate)`` (librosa's centred count
        for an integer hop).
    """
    return 1 + math.floor(n_samples * fps / sample_rate + 1e-9)


def _window_sizes(sample_rate: float, seconds: float) -> tuple[int, int]:
    """The window length keeping ``seconds``, and the power-of-two FFT size holding it."""
    win_length = max(2, round(seconds * sample_rate))
    n_fft = 1 << (win_length - 1).bit_length()
    return win_length, n_fft


def _filtered_power(
    x: np.ndarray,
    *,
    sample_rate: float,
    fps: float,
    win_length: int,
    n_fft: int,
    basis: np.ndarray,
) -> np.ndarray:
    """``basis @ |STFT|²`` at the centres ``round(i × sample_rate / fps)``.

    Parameters
    ----------
    x : np.ndarray, shape (n,)
        Mono signal.
    sample_rate, fps : float
        Hz and frames per second.
    win_length, n_fft : int
        Hann window length and FFT size, samples (``win_length <= n_fft``).
    basis : np.ndarray, shape (bands, n_fft // 2 + 1)
        Filterbank applied to the power spectrum.

    Returns
    -------
    np.ndarray, shape (bands, T)
    """
    n = x.shape[0]
    t = frame_count(n, sample_rate, fps)
    pad = n_fft // 2
    padded = np.pad(x, pad, mode="reflect") if n > 0 else np.zeros(2 * pad)
    # Periodic Hann of win_length, centred in n_fft (librosa's win_length < n_fft).
    hann = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win_length) / win_length)
    window = np.zeros(n_fft)
    left = (n_fft - win_length) // 2
    window[left : left + win_length] = hann
    starts = np.rint(np.arange(t) * (sample_rate / fps)).astype(np.int64)
    starts = np.minimum(starts, n)  # a centre never passes the end of the signal
    offsets = np.arange(n_fft)
    out = np.empty((basis.shape[0], t))
    for b in range(0, t, _BLOCK_FRAMES):
        frames = padded[starts[b : b + _BLOCK_FRAMES, None] + offsets[None, :]] * window
        power = np.abs(np.fft.rfft(frames, n=n_fft, axis=1)) ** 2
        out[:, b : b + _BLOCK_FRAMES] = basis @ power.T
    return out


def _hz_to_mel(hz: float | np.ndarray) -> np.ndarray:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f = np.asarray(hz, dtype=np.float64)
    f_sp = 200.0 / 3
    logstep = math.log(6.4) / 27.0
    lin = f / f_sp
    log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / logstep
    return np.where(f >= 1000.0, log, lin)


def _mel_to_hz(mel: float | np.ndarray) -> np.ndarray:
    """Inverse of :func:`_hz_to_mel`."""
    m = np.asarray(mel, dtype=np.float64)
    f_sp = 200.0 / 3
    logstep = math.log(6.4) / 27.0
    return np.where(m >= 15.0, 1000.0 * np.exp(logstep * (m - 15.0)), f_sp * m)


def mel_filterbank(
    sample_rate: float, n_fft: int, *, n_mels: int = 128, fmin: float = 0.0, fmax: float = 8000.0
) -> np.ndarray:
    """Slaney mel filterbank with area normalisation (``librosa.filters.mel``'s default).

    Parameters
    ----------
    sample_rate : float
        Hz.
    n_fft : int
        FFT size the filters apply to, samples.
    n_mels : int
        Number of bands.
    fmin, fmax : float
        Lowest and highest band edge, Hz.

    Returns
    -------
    np.ndarray, shape (n_mels, n_fft // 2 + 1)
        Band ``m`` is a triangle from ``edges[m]`` through ``edges[m + 1]`` to
        ``edges[m + 2]`` (``n_mels + 2`` edges equally spaced in mel), scaled
        by ``2 / (edges[m + 2] − edges[m])``.
    """
    freqs = np.linspace(0.0, sample_rate / 2, 1 + n_fft // 2)
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    widths = np.diff(edges)
    ramps = edges[:, None] - freqs[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[:, None]


def chroma_filterbank(
    sample_rate: float, n_fft: int, *, min_hz: float = CHROMA_MIN_HZ
) -> np.ndarray:
    """STFT-bin → pitch-class weights, built like ``librosa.filters.chroma``.

    Each bin's weight goes to the pitch class of its frequency (A440 tuning)
    with a Gaussian fall-off a semitone wide, is normalised to unit L2 norm
    over the 12 classes, and is weighted by a Gaussian in octaves centred on
    880 Hz, 2 octaves wide. Bins below ``min_hz`` (and the DC bin) get no
    weight.

    Parameters
    ----------
    sample_rate : float
        Hz.
    n_fft : int
        FFT size, samples.
    min_hz : float
        Bins below this frequency are dropped, Hz.

    Returns
    -------
    np.ndarray, shape (12, n_fft // 2 + 1)
        Row 0 is C, row 9 is A.
    """
    n_bins = 1 + n_fft // 2
    freqs = np.arange(n_bins) * (sample_rate / n_fft)
    safe = np.maximum(freqs, 1e-10)
    # Pitch in semitones above A0 (27.5 Hz), so A = 0 before the roll to C = 0.
    semis = N_PITCHES * np.log2(safe / 27.5)
    if n_bins > 1:
        semis[0] = semis[1] - 1.5 * N_PITCHES  # librosa's made-up value for DC
    widths = np.ones(n_bins)
    widths[:-1] = np.maximum(np.diff(semis), 1.0)
    half = N_PITCHES // 2
    dist = semis[None, :] - np.arange(N_PITCHES)[:, None]
    dist = np.remainder(dist + half + 10 * N_PITCHES, N_PITCHES) - half
    wts = np.exp(-0.5 * (2.0 * dist / widths[None, :]) ** 2)
    wts /= np.sqrt(np.sum(wts**2, axis=0, keepdims=True))
    wts *= np.exp(-0.5 * ((semis / N_PITCHES - 5.0) / 2.0) ** 2)[None, :]
    wts = np.roll(wts, -3, axis=0)  # C first
    wts[:, freqs < min_hz] = 0.0
    return wts


def mel_power(
    x: np.ndarray,
    *,
    sample_rate: float,
    fps: float,
    n_mels: int = 128,
    fmax: float = 8000.0,
) -> np.ndarray:
    """Mel power spectrogram, one frame per ``1 / fps`` seconds.

    Parameters
    ----------
    x : np.ndarray, shape (n,) or (n, channels)
        Audio; channels are averaged.
    sample_rate : float
        Hz.
    fps : float
        Frames per second; frame ``i`` is centred at ``i / fps`` seconds.
    n_mels : int
        Number of Slaney mel bands.
    fmax : float
        Highest band edge, Hz.

    Returns
    -------
    np.ndarray, shape (n_mels, T), float64
        Power (squared amplitude, summed through the filters), with
        ``T = frame_count(n, sample_rate, fps)``.
    """
    win_length, n_fft = _window_sizes(sample_rate, MEL_WINDOW_S)
    basis = mel_filterbank(sample_rate, n_fft, n_mels=n_mels, fmax=fmax)
    return _filtered_power(
        to_mono(x, dtype=np.float64),
        sample_rate=sample_rate,
        fps=fps,
        win_length=win_length,
        n_fft=n_fft,
        basis=basis,
    )


def chromagram(x: np.ndarray, *, sample_rate: float, fps: float) -> np.ndarray:
    """STFT chromagram (replacing the original's ``chroma_cqt``), each frame's maximum 1.

    Parameters
    ----------
    x : np.ndarray, shape (n,) or (n, channels)
        Audio; channels are averaged.
    sample_rate : float
        Hz.
    fps : float
        Frames per second; frame ``i`` is centred at ``i / fps`` seconds.

    Returns
    -------
    np.ndarray, shape (12, T), float64
        Pitch-class power (C = 0 … B = 11), each frame divided by its maximum;
        frames without energy stay zero.
    """
    win_length, n_fft = _window_sizes(sample_rate, CHROMA_WINDOW_S)
    basis = chroma_filterbank(sample_rate, n_fft)
    raw = _filtered_power(
        to_mono(x, dtype=np.float64),
        sample_rate=sample_rate,
        fps=fps,
        win_length=win_length,
        n_fft=n_fft,
        basis=basis,
    )
    peak = raw.max(axis=0, keepdims=True)
    live = peak > np.finfo(np.float64).tiny
    return np.where(live, raw / np.where(live, peak, 1.0), 0.0)


def power_features(mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The original's power curve and its rises, normalised as published.

    Parameters
    ----------
    mel : np.ndarray, shape (bands, T)
        Mel power spectrogram.

    Returns
    -------
    specm : np.ndarray, shape (T,)
        Mean power over the bands, scaled to ``[0, 1]`` over the file (zeros
        if it is flat).
    gradm : np.ndarray, shape (T,)
        ``np.gradient`` of the mean power divided by its maximum, negative
        values set to 0 (zeros if the power never rises).
    """
    m = np.asarray(mel, dtype=np.float64)
    specm = m.mean(axis=0)
    t = specm.shape[0]
    grad = np.gradient(specm) if t >= 2 else np.zeros(t)
    top = float(grad.max()) if t else 0.0
    gradm = np.clip(grad / top, 0.0, None) if top > 0 else np.zeros(t)
    span = float(np.ptp(specm)) if t else 0.0
    specm = (specm - specm.min()) / span if span > 0 else np.zeros(t)
    return specm, gradm


def smooth_class_vectors(vectors: np.ndarray, smooth_factor: int) -> np.ndarray:
    """The original's smoothing: interpolate between the means of consecutive bins.

    For bin ``c`` (``c < floor(L / sf) − 1``) with mean ``a`` and the next bin's
    mean ``b``, frames ``c × sf + j`` (``j < sf``) get
    ``a × (1 − j / (sf − 1)) + b × j / (sf − 1)``; the output is therefore
    ``(floor(L / sf) − 1) × sf`` long, shorter than the input.

    Parameters
    ----------
    vectors : np.ndarray, shape (L, n)
        Class vectors, one per frame.
    smooth_factor : int
        Bin size ``sf``, frames; 1 returns the vectors unchanged.

    Returns
    -------
    np.ndarray, shape (M, n)
        ``M = max(0, floor(L / sf) − 1) × sf``.
    """
    v = np.asarray(vectors, dtype=np.float64)
    sf = int(smooth_factor)
    if sf < 1:
        raise ValueError(f"smooth_factor must be at least 1, not {smooth_factor}")
    if sf == 1:
        return v.copy()
    bins = v.shape[0] // sf
    if bins < 2:
        return np.zeros((0, *v.shape[1:]))
    means = v[: bins * sf].reshape(bins, sf, *v.shape[1:]).mean(axis=1)
    w = (np.arange(sf) / (sf - 1)).reshape(1, sf, *([1] * (v.ndim - 1)))
    out = means[:-1, None] * (1 - w) + means[1:, None] * w
    return out.reshape((bins - 1) * sf, *v.shape[1:])


def scaled_settings(settings: DmvSettings, fps: float) -> tuple[float, int, int]:
    """The per-frame parameters at ``fps`` (same speed and durations per second).

    Parameters
    ----------
    settings : DmvSettings
    fps : float
        Frames per second.

    Returns
    -------
    tempo_sensitivity : float
        ``tempo_sensitivity × reference_fps / fps``.
    smooth_factor : int
        ``max(2, round(smooth_factor × fps / reference_fps))``, or 1 when the
        setting is 1 (no smoothing).
    jitter_every : int
        ``max(1, round(jitter_every × fps / reference_fps))`` frames.
    """
    ratio = fps / settings.reference_fps
    tempo = settings.tempo_sensitivity / ratio
    smooth = 1 if settings.smooth_factor <= 1 else max(2, round(settings.smooth_factor * ratio))
    every = max(1, round(settings.jitter_every * ratio))
    return tempo, smooth, every


def _twelve(classes: Sequence[int], num_classes: int) -> list[int]:
    """Exactly 12 class indices: cycled if fewer, the first 12 if more."""
    given = [int(c) for c in classes]
    if not given:
        raise ValueError("classes must hold at least one class index")
    bad = [c for c in given if not 0 <= c < num_classes]
    if bad:
        raise ValueError(f"class indices {bad} are outside 0..{num_classes - 1}")
    return [given[k % len(given)] for k in range(N_PITCHES)]


def _normalise_classes(cv: np.ndarray, nudge_index: int) -> np.ndarray:
    """The original's class-vector rescaling, smallest used class 0, largest 1, with its nudge."""
    nonzero = cv != 0
    if nonzero.any():
        low = float(cv[nonzero].min())
        cv = np.where(nonzero, cv, low)
        span = float(np.ptp(cv))
        cv = (cv - low) / span if span > 0 else np.zeros_like(cv)
    kept = cv[cv != 0]
    if kept.size == 0 or float(np.std(kept)) < 1e-7:
        cv[nudge_index] += 0.01
    return cv


def dmv_vectors(
    specm: np.ndarray,
    gradm: np.ndarray,
    chroma: np.ndarray,
    *,
    classes: Sequence[int],
    settings: DmvSettings,
    fps: float,
    z_dim: int = 128,
    num_classes: int = 1000,
    rng: np.random.Generator,
    initial_noise: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The original's per-frame loop, from features already computed.

    Parameters
    ----------
    specm, gradm : np.ndarray, shape (T,)
        Power and power rises, normalised as by :func:`power_features`.
    chroma : np.ndarray, shape (12, T)
        Chromagram, each frame's maximum 1 (as by :func:`chromagram`).
    classes : sequence of int
        The class pitch class ``p`` drives is ``classes[p]`` (cycled to 12).
    settings : DmvSettings
    fps : float
        Frames per second of the features; the per-frame parameters are scaled
        from ``settings.reference_fps`` (see :func:`scaled_settings`).
    z_dim, num_classes : int
        Lengths of the noise and class vectors.
    rng : np.random.Generator
        Draws the initial noise (unless given) and then the jitters.
    initial_noise : np.ndarray, shape (z_dim,), optional
        The first noise vector, already scaled by the truncation; drawn from
        ``rng`` (truncated normal × truncation) when omitted.

    Returns
    -------
    noise : np.ndarray, shape (T + 1, z_dim), float64
        The initial vector, then one per frame.
    class_vectors : np.ndarray, shape (M, num_classes), float64
        The ``T + 1`` class vectors smoothed by :func:`smooth_class_vectors`
        (``M = (floor((T + 1) / sf) − 1) × sf``); when that leaves nothing, the
        mean of the ``T + 1`` vectors, as one row.
    """
    specm = np.asarray(specm, dtype=np.float64)
    gradm = np.asarray(gradm, dtype=np.float64)
    chroma = np.asarray(chroma, dtype=np.float64)
    t = gradm.shape[0]
    if t == 0 or specm.shape != (t,) or chroma.shape != (N_PITCHES, t):
        raise ValueError(
            f"need specm and gradm of shape (T,) and chroma of shape (12, T) with T >= 1,"
            f" not {specm.shape}, {gradm.shape}, {chroma.shape}"
        )
    pitch_classes = _twelve(classes, num_classes)
    tempo, smooth, every = scaled_settings(settings, fps)
    truncation = settings.truncation
    bound = 2 * truncation - tempo
    ps = settings.pitch_sensitivity

    chromagrad = np.gradient(chroma, axis=1) if t >= 2 else np.zeros_like(chroma)
    chromasort = np.argsort(np.mean(chroma, axis=1))[::-1]
    order = [(int(p), pitch_classes[int(p)]) for p in chromasort]

    cv = np.zeros(num_classes)
    for p, c in order:
        cv[c] = chroma[p, 0]
    if initial_noise is None:
        nv = truncation * truncated_normal(rng, z_dim)
    else:
        nv = np.array(initial_noise, dtype=np.float64).reshape(z_dim)
    noise = np.empty((t + 1, z_dim))
    noise[0] = nv
    class_vectors = np.empty((t + 1, num_classes))
    class_vectors[0] = cv

    update_dir = np.where(nv < 0, 1.0, -1.0)
    update_last = np.zeros(z_dim)
    jitters = np.ones(z_dim)
    nudge = order[0][1]
    shrink = 1 + 1 / (ps / 2)
    for i in range(t):
        if i % every == 0:
            jitters = np.where(rng.random(z_dim) < 0.5, 1.0, 1.0 - settings.jitter)
        update = tempo * (gradm[i] + specm[i]) * update_dir * jitters
        update = (update + 3 * update_last) / 4
        update_last = update
        nv = nv + update
        noise[i + 1] = nv
        update_dir = np.where(nv >= bound, -1.0, np.where(nv < -bound, 1.0, update_dir))

        new = np.zeros(num_classes)
        for p, c in order:
            new[c] = (cv[c] + (chroma[p, i] + chromagrad[p, i]) / ps) / shrink
        cv = _normalise_classes(new, nudge) * settings.depth
        class_vectors[i + 1] = cv

    smoothed = smooth_class_vectors(class_vectors, smooth)
    if smoothed.shape[0] == 0:
        smoothed = class_vectors.mean(axis=0, keepdims=True)
    return noise, smoothed


def _exactly(rows: np.ndarray, n: int) -> np.ndarray:
    """The first ``n`` rows, the last one repeated when there are fewer."""
    if rows.shape[0] >= n:
        return rows[:n]
    extra = np.repeat(rows[-1:], n - rows.shape[0], axis=0)
    return np.concatenate([rows, extra], axis=0)


def dmv_frames(
    x: np.ndarray,
    *,
    sample_rate: float,
    fps: float,
    n_frames: int,
    classes: Sequence[int],
    settings: DmvSettings = DmvSettings(),
    z_dim: int = 128,
    num_classes: int = 1000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, float]:
    """The generator's inputs for ``n_frames`` video frames of a signal.

    Parameters
    ----------
    x : np.ndarray, shape (n,) or (n, channels)
        Audio; channels are averaged.
    sample_rate : float
        Hz.
    fps : float
        Video frames per second; frame ``k`` is at ``k / fps`` seconds.
    n_frames : int
        Frames to produce.
    classes : sequence of int
        ImageNet classes driven by the pitch classes C … B (cycled to 12).
    settings : DmvSettings
        The original's parameters.
    z_dim, num_classes : int
        Sizes of the generator's inputs.
    seed : int
        Seeds the initial noise and the jitters.

    Returns
    -------
    z : np.ndarray, shape (n_frames, z_dim), float32
        Noise vectors.
    y : np.ndarray, shape (n_frames, num_classes), float32
        Class vectors.
    truncation : float
        To pass to the generator with them.
    """
    if n_frames < 0:
        raise ValueError(f"n_frames must be >= 0, not {n_frames}")
    mono = to_mono(x, dtype=np.float64)
    specm, gradm = power_features(mel_power(mono, sample_rate=sample_rate, fps=fps))
    chroma = chromagram(mono, sample_rate=sample_rate, fps=fps)
    noise, class_vectors = dmv_vectors(
        specm,
        gradm,
        chroma,
        classes=classes,
        settings=settings,
        fps=fps,
        z_dim=z_dim,
        num_classes=num_classes,
        rng=np.random.default_rng(seed),
    )
    z = _exactly(noise, n_frames).astype(np.float32)
    y = _exactly(class_vectors, n_frames).astype(np.float32)
    return z, y, float(settings.truncation)
