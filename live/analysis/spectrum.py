"""Spectral flux and pitch-class energy (chroma) of the newest sound, as it arrives.

Once per analysed block (about 46 ms) one Hann-windowed FFT of the newest
93 ms gives both. The flux is the sum over bins of the magnitude's rise since
the previous block, over a slowly decaying running maximum: how much new sound
there is, in [0, 1]. For the chroma, each bin of a Hann-windowed FFT gives its energy to the pitch class of its
frequency, with a Gaussian weight in semitones so that a note between two bins
is shared between them smoothly. Bins below 55 Hz (where a 93 ms window cannot
tell semitones apart) and above 5 kHz (mostly overtones and noise) are left
out. The 12 values are scaled so the strongest is 1.
"""

from __future__ import annotations

import math

import numpy as np

#: Window length, seconds (4096 samples at 44.1 kHz).
WINDOW_S = 0.0929
#: Lowest and highest frequencies used, Hz.
FMIN_HZ = 55.0
FMAX_HZ = 5000.0
#: Spread of a bin's weight around its pitch, semitones.
SPREAD_SEMITONES = 0.5
#: Below this energy (per window sample) the sound is silence: chroma is zero.
SILENCE_POWER = 1e-10
#: Window of the flux, seconds (2048 samples at 44.1 kHz).
FLUX_WINDOW_S = 0.0464
#: Hop between flux frames, seconds.
FLUX_HOP_S = 0.0232


def chroma_matrix(n_fft: int, sample_rate: float) -> np.ndarray:
    """Weights from FFT bins to pitch classes.

    Parameters
    ----------
    n_fft : int
        FFT length in samples.
    sample_rate : float
        Sample rate, Hz.

    Returns
    -------
    np.ndarray, shape (n_fft // 2 + 1, 12), float32
        Column ``c`` collects pitch class ``c`` (0 = C, 9 = A).
    """
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)
    out = np.zeros((freqs.shape[0], 12), dtype=np.float64)
    used = (freqs >= FMIN_HZ) & (freqs <= FMAX_HZ)
    # Semitones above C0 (16.35 Hz); pitch class = position modulo 12.
    semis = 12.0 * np.log2(freqs[used] / 16.351597831287414)
    for c in range(12):
        d = (semis - c + 6.0) % 12.0 - 6.0  # signed distance to the nearest C+c
        out[used, c] = np.exp(-0.5 * (d / SPREAD_SEMITONES) ** 2)
    return out.astype(np.float32)


class SpectrumStream:
    """Flux and chroma of the newest :data:`WINDOW_S` of a signal fed in blocks.

    Parameters
    ----------
    sample_rate : float
        Sample rate, Hz.
    """

    def __init__(self, *, sample_rate: float) -> None:
        self.n_fft = 1 << math.ceil(math.log2(WINDOW_S * sample_rate))
        self._window = np.hanning(self.n_fft).astype(np.float32)
        self._matrix = chroma_matrix(self.n_fft, sample_rate)
        self._history = np.zeros(self.n_fft, dtype=np.float32)
        self._sample_rate = float(sample_rate)
        self.flux_fft = 1 << math.ceil(math.log2(FLUX_WINDOW_S * sample_rate))
        self._flux_window = np.hanning(self.flux_fft).astype(np.float32)
        self._flux_gain = float(np.sum(self._flux_window))
        self._magnitude = np.zeros(self.flux_fft // 2 + 1, dtype=np.float32)
        self.flux = 0.0
        self.chroma: tuple[float, ...] = ()

    def push(self, samples: np.ndarray) -> None:
        """Add samples; update :attr:`flux` and :attr:`chroma` for the newest window.

        Parameters
        ----------
        samples : np.ndarray, shape (n,), float32
            The next mono samples.

        Notes
        -----
        ``flux`` is in amplitude units (about 0.1 for music at -20 dBFS); ``chroma`` holds 12
        pitch-class energies, the largest 1, all zero in silence.
        """
        x = np.asarray(samples, dtype=np.float32)
        if x.shape[0] >= self.n_fft:
            self._history = x[-self.n_fft :].copy()
        elif x.shape[0]:
            self._history = np.concatenate([self._history[x.shape[0] :], x])
        if not x.shape[0]:
            return
        frame = self._history
        # Flux frames every FLUX_HOP_S through the new samples (at least the newest).
        n = self.flux_fft
        hop = max(1, round(FLUX_HOP_S * self._sample_rate))
        ends = np.arange(frame.shape[0], max(frame.shape[0] - x.shape[0], n) - 1, -hop)[::-1]
        if ends.size == 0:
            ends = np.array([frame.shape[0]])
        idx = ends[:, None] - n + np.arange(n)[None, :]
        mags = np.abs(np.fft.rfft(frame[idx] * self._flux_window, axis=1)).astype(np.float32)
        previous = np.vstack([self._magnitude[None, :], mags[:-1]])
        rise = float(np.mean(np.sum(np.maximum(mags - previous, 0.0), axis=1))) / self._flux_gain
        self._magnitude = mags[-1]
        self.flux = rise
        if float(np.dot(frame, frame)) / self.n_fft < SILENCE_POWER:
            self.chroma = (0.0,) * 12
            return
        spectrum = np.fft.rfft(frame * self._window)
        power = (spectrum.real**2 + spectrum.imag**2).astype(np.float32)
        energy = power @ self._matrix
        top = float(energy.max())
        values = energy / top if top > 0 else energy
        self.chroma = tuple(float(v) for v in values)
