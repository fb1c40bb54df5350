"""Spectral inflections: the original offline algorithm and its causal twin.

The original (GANterpretations) normalises the spectral change by its global
maximum, smooths it with a trailing moving average and scans it for calm low
points (``mode="min"``) that stand out from the mean of the window before and
the window after them. :func:`seed_curve` and :func:`seed_inflections` do
exactly that on a whole file.

Live, neither the global maximum nor the future is known. :class:`CurveTracker`
replaces the maximum by a slowly decaying running maximum and smooths causally;
:class:`InflectionScanner` runs the very same scan as values arrive, deciding on
each candidate as soon as its look-ahead window has arrived. With the
look-ahead, look-back and spacing all equal to the original's window, it makes
the original's decisions on the same curve, ``lookahead`` columns late.

:class:`PredictiveScanner` decides sooner: after a shorter look-ahead it
predicts the mean of the whole window after a candidate from the part that has
arrived and its trend (the curve is a trailing mean over hundreds of columns,
so it moves slowly), and applies the very same test to that prediction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ganterp.live.analysis.spectral import power_spectrogram, spectral_change

_sum = np.add.reduce

#: The original's parameters, in spectrogram columns (hop 128).
SEED_WINDOW = 200
SEED_SMOOTHING = 256
SEED_ABSOLUTE_THRESHOLD = 0.08
SEED_THRESHOLD = 0.035
#: :class:`PredictiveScanner`'s look-ahead in columns (0.3 s at 44.1 kHz, hop 128).
PREDICTIVE_LOOKAHEAD = 103
#: How much of the seen rise :class:`PredictiveScanner` lets go on over the unseen
#: rest of the window (chosen on recordings, see the bench).
PREDICTIVE_DAMPING = 0.5


@dataclass(frozen=True)
class Inflection:
    """A point where the music changes character.

    Attributes
    ----------
    index : int
        Column of the curve where it lies.
    time_s : float
        Its time on the audio clock, in seconds.
    strength : float
        How far it stands from the mean of its two windows (normalised change units).
    decided_index : int
        Column at which the decision was made (``index`` plus the look-ahead).
    """

    index: int
    time_s: float
    strength: float
    decided_index: int


def running_mean_prepended(x: np.ndarray, n: int) -> np.ndarray:
    """The original's smoothing: trailing mean of ``n`` values, first mean repeated.

    Parameters
    ----------
    x : np.ndarray, shape (m,)
        Values to smooth, ``m >= 1``.
    n : int
        Window in values.

    Returns
    -------
    np.ndarray, shape (m + 1,)
        ``out[k] = mean(x[k - n : k])`` for ``k >= n`` and ``out[k] = mean(x[:n])``
        for ``k < n`` (for ``m < n``: the mean of all of ``x`` everywhere).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.shape[0] < n:
        return np.full(x.shape[0] + 1, float(np.mean(x)) if x.size else 0.0)
    cumsum = np.cumsum(np.insert(x, 0, 0.0))
    means = (cumsum[n:] - cumsum[:-n]) / float(n)
    return np.concatenate([np.full(n, means[0]), means])


def seed_curve(
    x: np.ndarray,
    *,
    sample_rate: float,
    nfft: int = 256,
    hop: int = 128,
    smoothing: int = SEED_SMOOTHING,
) -> tuple[np.ndarray, np.ndarray]:
    """The original's normalised and smoothed spectral-change curve of a whole signal.

    Parameters
    ----------
    x : np.ndarray, shape (n,)
        Mono signal (the original used channel 0).
    sample_rate : float
        Sample rate in Hz.
    nfft, hop : int
        Spectrogram window and hop in samples.
    smoothing : int
        Moving-average window in columns.

    Returns
    -------
    change : np.ndarray, shape (n_columns - 1,)
        Spectral change divided by its maximum (zeros where the signal never changes).
    curve : np.ndarray, shape (n_columns,)
        ``change`` smoothed; one value per spectrogram column (one video frame of the original).
    """
    change = spectral_change(power_spectrogram(x, sample_rate=sample_rate, nfft=nfft, hop=hop))
    peak = float(np.max(change)) if change.size else 0.0
    if peak > 0:
        change = change / peak
    if change.size == 0:
        return change, np.zeros(0)
    return change, running_mean_prepended(change, smoothing)


def _is_turning_point(x: np.ndarray, c: int) -> bool:
    """Whether ``x[c]`` lies on the same side of both neighbours (the original's sign test)."""
    if c + 1 >= x.shape[0]:
        return False
    return bool(np.sign(x[c] - x[c - 1]) == np.sign(x[c] - x[c + 1]))


def _judge(
    x: np.ndarray,
    c: int,
    prev_mean: float,
    next_mean: float,
    *,
    threshold: float,
    absolute_threshold: float,
    mode: str,
) -> str:
    """Classify turning point ``c``: ``"accept"``, ``"reject"`` (skip a window) or ``"move"``.

    The caller has checked :func:`_is_turning_point`; this applies the rest of
    the original's test: the same side of both window means, by more than the
    threshold, then the mode's own conditions.
    """
    if math.isnan(next_mean) or not (
        np.sign(x[c] - prev_mean) == np.sign(x[c] - next_mean)
        and abs(x[c] - prev_mean) > threshold
        and abs(x[c] - next_mean) > threshold
    ):
        return "move"
    if mode == "min" and (x[c] > x[c - 1] or x[c] > absolute_threshold):
        return "reject"
    if mode == "max" and x[c] < x[c - 1]:
        return "reject"
    return "accept"


def seed_inflections(
    curve: np.ndarray,
    *,
    threshold: float = SEED_THRESHOLD,
    absolute_threshold: float = SEED_ABSOLUTE_THRESHOLD,
    window: int = SEED_WINDOW,
    mode: str = "min",
) -> np.ndarray:
    """The original's inflection scan over a whole curve.

    Parameters
    ----------
    curve : np.ndarray, shape (n,)
        Smoothed, normalised spectral change (see :func:`seed_curve`).
    threshold : float
        Minimum difference from both window means.
    absolute_threshold : float
        In ``"min"`` mode, the highest value an inflection may have.
    window : int
        Look-back, look-ahead and skip, in columns.
    mode : {"min", "max", "both"}
        Which extrema are kept.

    Returns
    -------
    np.ndarray of int
        Column indices: 0, each inflection, and ``n - 1`` (the original's boundaries).
    """
    x = np.asarray(curve, dtype=np.float64)
    points = [0]
    i = 0
    while i < x.shape[0] - window - 1:
        c = i + window + 1
        if not _is_turning_point(x, c):
            i += 1
            continue
        prev_mean = float(np.mean(x[i : i + window]))
        after = x[c + 1 : c + window + 1]
        next_mean = float(np.mean(after)) if after.size else math.nan
        verdict = _judge(
            x,
            c,
            prev_mean,
            next_mean,
            threshold=threshold,
            absolute_threshold=absolute_threshold,
            mode=mode,
        )
        if verdict == "move":
            i += 1
            continue
        if verdict == "accept":
            points.append(c)
        i += window
    points.append(x.shape[0] - 1)
    return np.asarray(points, dtype=np.int64)


class InflectionScanner:
    """The original scan, run causally on a curve that arrives one value at a time.

    Parameters
    ----------
    lookback : int
        Columns before a candidate whose mean it is compared with (original: 200).
    lookahead : int
        Columns after a candidate whose mean it is compared with (original: 200).
        A candidate is decided once these have arrived: this is the latency.
    spacing : int
        Columns the scan skips after an extremum (original: 200).
    threshold, absolute_threshold : float
        As in :func:`seed_inflections`.
    mode : {"min", "max", "both"}
        Which extrema are kept.
    columns_per_second : float
        Curve values per second, to stamp times.
    """

    def __init__(
        self,
        *,
        lookback: int = SEED_WINDOW,
        lookahead: int = SEED_WINDOW,
        spacing: int = SEED_WINDOW,
        threshold: float = SEED_THRESHOLD,
        absolute_threshold: float = SEED_ABSOLUTE_THRESHOLD,
        mode: str = "min",
        columns_per_second: float = 44100 / 128,
    ) -> None:
        if min(lookback, lookahead, spacing) < 1:
            raise ValueError("lookback, lookahead and spacing must be at least one column")
        if mode not in ("min", "max", "both"):
            raise ValueError(f"mode must be 'min', 'max' or 'both', not {mode!r}")
        self.lookback = int(lookback)
        self.lookahead = int(lookahead)
        self.spacing = int(spacing)
        self.threshold = float(threshold)
        self.absolute_threshold = float(absolute_threshold)
        self.mode = mode
        self.columns_per_second = float(columns_per_second)
        keep = self.lookback + self.lookahead + 2
        self._cap = max(4 * keep, 4096)
        self._buf = np.zeros(self._cap)
        self._base = 0  # absolute index of _buf[0]
        self._count = 0  # values received
        self._i = 0  # the scan's position, as in the original's loop

    @property
    def count(self) -> int:
        """Values received so far."""
        return self._count

    def _append(self, values: np.ndarray) -> None:
        n = self._count - self._base
        if n + values.shape[0] > self._cap:
            # Drop what no future candidate can look at; keep the rest contiguous.
            shift = max(min(self._i, self._count) - 1 - self._base, 0)
            self._buf[: n - shift] = self._buf[shift:n]
            self._base += shift
            n -= shift
        self._buf[n : n + values.shape[0]] = values
        self._count += values.shape[0]

    def push(self, values: np.ndarray | float) -> list[Inflection]:
        """Add curve values and return the inflections decided by them."""
        v = np.atleast_1d(np.asarray(values, dtype=np.float64))
        found: list[Inflection] = []
        piece = self._cap // 4
        for start in range(0, v.shape[0], piece):
            self._append(v[start : start + piece])
            found.extend(self._scan(final=False))
        return found

    def flush(self) -> list[Inflection]:
        """Decide the remaining candidates with shortened look-ahead (end of a file)."""
        return self._scan(final=True)

    def _next_mean(self, x: np.ndarray, lc: int) -> float:
        """Mean of the look-ahead window after candidate ``x[lc]`` (what has arrived of it).

        Parameters
        ----------
        x : np.ndarray
            The buffered curve (normalised change units).
        lc : int
            Buffer index of the candidate; ``x[lc + 1 :]`` are the values after it.

        Returns
        -------
        float
            The mean of up to ``lookahead`` values after the candidate (normalised
            change units), NaN when none has arrived.
        """
        after = x[lc + 1 : lc + self.lookahead + 1]
        return float(_sum(after)) / after.shape[0] if after.size else math.nan

    def _scan(self, *, final: bool) -> list[Inflection]:
        found: list[Inflection] = []
        x = self._buf[: self._count - self._base]
        base = self._base
        # Candidates c that can be decided now: c + lookahead < count (or, at the
        # end, any c with a right neighbour). Only turning points need the means.
        stop = self._count - 1 if final else self._count - self.lookahead
        first = self._i + self.lookback + 1
        if first >= stop:
            return found
        lo, hi = first - base, stop - base
        centre = x[lo:hi]
        turning = np.sign(centre - x[lo - 1 : hi - 1]) == np.sign(centre - x[lo + 1 : hi + 1])
        points = (np.flatnonzero(turning) + first).tolist()
        k = 0
        while True:
            c = self._i + self.lookback + 1
            while k < len(points) and points[k] < c:
                k += 1
            if k == len(points):
                # No turning point left to decide: the scan moves one by one past them.
                self._i = max(self._i, stop - self.lookback - 1)
                break
            c = points[k]
            self._i = c - self.lookback - 1
            lc, li = c - base, self._i - base
            # np.add.reduce / n is what np.mean computes, bit for bit, at less cost.
            prev_mean = float(_sum(x[li : li + self.lookback])) / self.lookback
            next_mean = self._next_mean(x, lc)
            verdict = _judge(
                x,
                lc,
                prev_mean,
                next_mean,
                threshold=self.threshold,
                absolute_threshold=self.absolute_threshold,
                mode=self.mode,
            )
            if verdict == "move":
                self._i += 1
                continue
            if verdict == "accept":
                found.append(
                    Inflection(
                        index=c,
                        time_s=c / self.columns_per_second,
                        strength=abs(0.5 * (prev_mean + next_mean) - float(x[lc])),
                        decided_index=min(c + self.lookahead, self._count - 1),
                    )
                )
            self._i += self.spacing
        return found


class PredictiveScanner(InflectionScanner):
    """The original scan with a short look-ahead that predicts the rest of the window.

    The original compares each candidate with the mean of the ``lookback``
    columns after it. This scanner decides once ``lookahead`` of them have
    arrived (``lookahead < lookback``) and predicts the mean of the whole window:
    the curve is a trailing mean over hundreds of columns, so it moves slowly and
    its rise over the seen part (from the candidate to the newest value) goes on
    for a while. The unseen rest of the window is taken to continue that rise at
    ``damping`` times its rate from the newest value, never below zero; the
    prediction is the mean of the seen values and of that extrapolation. The
    rest of the test (turning point, same side of both means by more than the
    threshold, the mode's own conditions, the skip) is the original's, so with
    ``lookahead >= lookback`` it makes exactly :class:`InflectionScanner`'s
    decisions with the look-ahead equal to the look-back (the original's).

    Parameters
    ----------
    lookback : int
        Columns before a candidate whose mean it is compared with, and the length
        of the window after it whose mean is predicted (original: 200).
    lookahead : int
        Columns after a candidate seen before it is decided: the latency.
    spacing : int
        Columns the scan skips after an extremum (original: 200).
    threshold, absolute_threshold : float
        As in :func:`seed_inflections` (normalised change units).
    mode : {"min", "max", "both"}
        Which extrema are kept.
    columns_per_second : float
        Curve values per second, to stamp times.
    damping : float
        Rate of the extrapolated rise as a fraction of the seen part's rise,
        ``>= 0`` (0 holds the newest value; 1 continues the rise unchanged).
    """

    def __init__(
        self,
        *,
        lookback: int = SEED_WINDOW,
        lookahead: int = PREDICTIVE_LOOKAHEAD,
        spacing: int = SEED_WINDOW,
        threshold: float = SEED_THRESHOLD,
        absolute_threshold: float = SEED_ABSOLUTE_THRESHOLD,
        mode: str = "min",
        columns_per_second: float = 44100 / 128,
        damping: float = PREDICTIVE_DAMPING,
    ) -> None:
        super().__init__(
            lookback=lookback,
            lookahead=lookahead,
            spacing=spacing,
            threshold=threshold,
            absolute_threshold=absolute_threshold,
            mode=mode,
            columns_per_second=columns_per_second,
        )
        if not (math.isfinite(damping) and damping >= 0):
            raise ValueError(f"damping must be a finite number >= 0, not {damping!r}")
        self.damping = float(damping)

    def _next_mean(self, x: np.ndarray, lc: int) -> float:
        """Predicted mean of the ``lookback`` columns after candidate ``x[lc]``.

        Parameters
        ----------
        x : np.ndarray
            The buffered curve (normalised change units).
        lc : int
            Buffer index of the candidate; ``x[lc + 1 :]`` are the values after it.

        Returns
        -------
        float
            The exact mean once the whole window has arrived, else the
            prediction (normalised change units); NaN when nothing has arrived.
        """
        window = self.lookback
        seen = x[lc + 1 : lc + 1 + min(self.lookahead, window)]
        m = seen.shape[0]
        if m == 0:
            return math.nan
        if m == window:
            return float(_sum(seen)) / window
        return predict_window_mean(
            float(x[lc]), float(_sum(seen)), float(seen[-1]), m, window, self.damping
        )


def predict_window_mean(
    start: float, seen_sum: float, newest: float, seen: int, window: int, damping: float
) -> float:
    """Mean of a window of a slow curve from its first values and their trend.

    Parameters
    ----------
    start : float
        The curve just before the window (the candidate's value).
    seen_sum : float
        Sum of the window's first ``seen`` values.
    newest : float
        The last of them.
    seen : int
        Values of the window seen, ``1 <= seen < window``.
    window : int
        Length of the window in values.
    damping : float
        Rate at which the rise from ``start`` to ``newest`` goes on, as a
        fraction of its rate over the seen values.

    Returns
    -------
    float
        ``(seen_sum + rest * max(newest + damping * rate * (rest + 1) / 2, 0)) / window``
        with ``rest = window - seen`` and ``rate = (newest - start) / seen``: the
        unseen values are a straight line from ``newest``, averaged (and floored at
        zero, where the curve lives).
    """
    rest = window - seen
    rate = (newest - start) / seen
    tail = max(newest + damping * rate * (rest + 1) / 2.0, 0.0)
    return (seen_sum + rest * tail) / window


class CurveTracker:
    """Causal twin of :func:`seed_curve`'s normalisation and smoothing.

    Parameters
    ----------
    smoothing : int
        Trailing moving-average window in columns.
    halflife : float
        Half-life of the running maximum, in columns.
    floor : float
        Smallest normaliser (in the raw change's units), so that digital
        silence after music does not blow up the curve.
    """

    def __init__(self, *, smoothing: int, halflife: float, floor: float = 1e-12) -> None:
        if smoothing < 1 or halflife <= 0:
            raise ValueError("smoothing and halflife must be positive")
        self.smoothing = int(smoothing)
        self.halflife = float(halflife)
        self.decay = 0.5 ** (1.0 / float(halflife))
        self.floor = float(floor)
        self.peak = self.floor
        self._tail = np.zeros(0)

    def push(self, change: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Normalise and smooth new raw spectral-change values.

        Parameters
        ----------
        change : np.ndarray, shape (k,)
            Raw (unnormalised) values from :class:`~ganterp.live.analysis.spectral.SpectralChangeStream`.

        Returns
        -------
        normalised : np.ndarray, shape (k,)
            Each value over the running maximum at its time, in [0, 1].
        curve : np.ndarray, shape (k,)
            Trailing mean of the raw values over the window (excluding the newest,
            like the original), over the running maximum at its time, in [0, 1].
        """
        d = np.asarray(change, dtype=np.float64)
        k = d.shape[0]
        if k == 0:
            return np.zeros(0), np.zeros(0)
        # decay**-j below must stay finite: long inputs go through in pieces.
        piece = max(1, int(200 * self.halflife))
        if k > piece:
            parts = [self.push(d[i : i + piece]) for i in range(0, k, piece)]
            return (
                np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]),
            )
        d = np.where(np.isfinite(d) & (d > 0), d, 0.0)
        # Running maximum p_j = max(d_j, p_(j-1) * decay, floor), without a Python loop:
        # p_j = max(floor, decay**j * max(p_(-1) * decay, max_(i<=j) d_i * decay**-i)).
        powers = self.decay ** np.arange(k)
        grown = np.maximum.accumulate(np.maximum(d / powers, self.peak * self.decay))
        peak = np.maximum(grown * powers, self.floor)
        self.peak = float(peak[-1])
        # Trailing mean over the values before each one.
        w = self.smoothing
        ext = np.concatenate([self._tail, d])
        csum = np.concatenate([[0.0], np.cumsum(ext)])
        t = self._tail.shape[0] + np.arange(k)  # position of each new value in ext
        start = np.maximum(t - w, 0)
        count = t - start
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, (csum[t] - csum[start]) / np.maximum(count, 1), d)
        self._tail = ext[-w:].copy()
        return np.minimum(d / peak, 1.0), np.minimum(mean / peak, 1.0)


def seconds_to_columns(seconds: float, *, sample_rate: float, hop: int) -> int:
    """Convert a duration to a whole number of spectrogram columns (at least 1)."""
    return max(1, round(seconds * sample_rate / hop))
