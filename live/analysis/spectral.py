"""The original's spectral-change measure, offline and streaming.

GANterpretations computed a spectrogram with matplotlib's ``specgram``
defaults (NFFT 256, hop 128, symmetric Hann window, one-sided power spectral
density) and measured spectral change between neighbouring columns as the mean
over frequency of their absolute difference. These functions compute the same
numbers without matplotlib, and :class:`SpectralChangeStream` computes them on
audio arriving in blocks of any size.
"""

from __future__ import annotations

import numpy as np


def psd_scale(nfft: int, sample_rate: float) -> np.ndarray:
    """Per-bin scale turning ``|rfft|**2`` into matplotlib's one-sided PSD.

    Parameters
    ----------
    nfft : int
        FFT length in samples.
    sample_rate : float
        Sample rate in Hz.

    Returns
    -------
    np.ndarray, shape (nfft // 2 + 1,), float64
        Scale per frequency bin: interior bins are doubled (one-sided), and all
        are divided by ``sample_rate * sum(window**2)``.
    """
    window = np.hanning(nfft)
    scale = np.full(nfft // 2 + 1, 2.0)
    scale[0] = 1.0
    if nfft % 2 == 0:
        scale[-1] = 1.0
    return scale / (sample_rate * float(np.sum(window**2)))


def power_spectrogram(
    x: np.ndarray, *, sample_rate: float, nfft: int = 256, hop: int = 128
) -> np.ndarray:
    """Power spectral density spectrogram, as ``matplotlib.mlab.specgram`` computes it.

    Parameters
    ----------
    x : np.ndarray, shape (n,)
        Mono signal (any float or int dtype; used as float64).
    sample_rate : float
        Sample rate in Hz.
    nfft : int
        Window and FFT length in samples.
    hop : int
        Samples between columns (``nfft - noverlap``).

    Returns
    -------
    np.ndarray, shape (nfft // 2 + 1, n_columns), float64
        PSD per bin and column; ``n_columns = (n - nfft) // hop + 1`` (0 if ``n < nfft``).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < nfft:
        return np.zeros((nfft // 2 + 1, 0))
    frames = np.lib.stride_tricks.sliding_window_view(x, nfft)[::hop]
    window = np.hanning(nfft)
    spec = np.fft.rfft(frames * window, axis=1)
    power = (spec.real**2 + spec.imag**2) * psd_scale(nfft, sample_rate)
    return power.T


def spectral_change(spectrogram: np.ndarray) -> np.ndarray:
    """Mean absolute difference between neighbouring spectrogram columns.

    Parameters
    ----------
    spectrogram : np.ndarray, shape (bins, n_columns)
        Linear power.

    Returns
    -------
    np.ndarray, shape (n_columns - 1,)
        ``d[i] = mean_f |S[f, i] - S[f, i + 1]|`` (unnormalised).
    """
    if spectrogram.shape[1] < 2:
        return np.zeros(0)
    return np.mean(np.abs(spectrogram[:, :-1] - spectrogram[:, 1:]), axis=0)


class SpectralChangeStream:
    """Streaming :func:`spectral_change` of :func:`power_spectrogram`.

    Feed samples in blocks of any size; get the same ``d`` values the offline
    functions give on the concatenated signal, as soon as each is computable.

    Parameters
    ----------
    sample_rate : float
        Sample rate in Hz.
    nfft : int
        Window length in samples.
    hop : int
        Samples between columns.
    """

    def __init__(self, *, sample_rate: float, nfft: int = 256, hop: int = 128) -> None:
        if hop <= 0 or nfft <= 0:
            raise ValueError("nfft and hop must be positive")
        self.sample_rate = float(sample_rate)
        self.nfft = int(nfft)
        self.hop = int(hop)
        self._window = np.hanning(self.nfft)
        self._scale = psd_scale(self.nfft, self.sample_rate)
        self._pending = np.zeros(0)
        self._last_column: np.ndarray | None = None
        self.columns = 0

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add samples and return the new spectral-change values.

        Parameters
        ----------
        samples : np.ndarray, shape (n,)
            The next mono samples.

        Returns
        -------
        np.ndarray, shape (k,), float64
            One value per new column after the first column ever (``k`` may be 0).
        """
        new = np.asarray(samples, dtype=np.float64)
        buf = np.concatenate([self._pending, new]) if self._pending.size else new
        if buf.shape[0] < self.nfft:
            self._pending = buf.copy()
            return np.zeros(0)
        n_cols = (buf.shape[0] - self.nfft) // self.hop + 1
        step = buf.strides[0]
        frames = np.lib.stride_tricks.as_strided(
            buf, shape=(n_cols, self.nfft), strides=(self.hop * step, step), writeable=False
        )
        spec = np.fft.rfft(frames * self._window, axis=1)
        power = (spec.real**2 + spec.imag**2) * self._scale
        self._pending = buf[n_cols * self.hop :].copy()
        self.columns += n_cols
        previous = self._last_column
        self._last_column = power[-1]
        if previous is None:
            if n_cols < 2:
                return np.zeros(0)
            return np.mean(np.abs(np.diff(power, axis=0)), axis=1)
        diffs = np.abs(np.diff(power, axis=0, prepend=previous[np.newaxis]))
        return np.mean(diffs, axis=1)
