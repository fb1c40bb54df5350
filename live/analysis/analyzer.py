"""Per-hop audio analysis: levels, bands, onsets, beats, pitch and inflections.

:class:`Analyzer` is pure and clock-free: it is fed samples and returns what it
found in them, stamped with the audio clock (absolute sample index ÷ sample
rate). The live show runs it in its own thread; offline renders and tests call
it directly.

Whatever the input's rate, everything is analysed at one rate,
:data:`ANALYSIS_RATE` (44.1 kHz, the original GANterpretations' reference
rate): the input is converted to it on the way in (a pass-through at 44.1 kHz,
see :mod:`ganterp.live.analysis.resample`), so that hops, windows and detector
geometry, and so what is found, do not depend on the file's or the device's
rate. Times and frames stay on the input's clock: analysis position ``a``
(analysis samples) is input frame ``a * sample_rate / ANALYSIS_RATE``, and the
converter removes its own filter delay, so no offset enters; what it holds
back (about 5 ms at 48 kHz) only makes results come later.

Two lanes keep it cheap at small block sizes. The fast lane runs every hop
(256 analysis samples, 5.8 ms): level, onset (aubio), and every second hop
tempo (aubio), every fourth pitch (aubio). The slow lane runs once enough
audio has gathered (``SLOW_HOPS`` hops, 46 ms): the original's spectral
change, its running normalisation and smoothing, the inflection scan and the band levels, all
vectorised. Slow values are carried into each hop's features as they are known.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import aubio
import numpy as np

from ganterp.live.analysis.features import AudioFeatures, Beat, Event, Inflection, Onset
from ganterp.live.analysis.inflection import (
    CurveTracker,
    InflectionScanner,
    PredictiveScanner,
    seconds_to_columns,
)
from ganterp.live.analysis.resample import StreamResampler
from ganterp.live.analysis.spectral import SpectralChangeStream
from ganterp.live.analysis.spectrum import SpectrumStream
from ganterp.live.audio.channels import to_mono
from ganterp.live.settings.schema import AnalysisSettings, InflectionSettings

#: The one rate everything is analysed at, Hz (the original's reference rate: its
#: 128-sample spectrogram hop is then the original's column).
ANALYSIS_RATE = 44100
SILENCE_DB = -120.0
#: aubio treats digital zero as silence when it decides, a few hops after an
#: onset, whether to report it, which hides short clicks after true silence.
#: A -100 dBFS offset on aubio's copy of the signal keeps that gate open; the
#: analyzer applies the configured silence level itself.
AUBIO_OFFSET = np.float32(1e-5)
#: Hops over which an onset's level is checked against the silence level
#: (covers aubio's decision delay of about 4.3 hops).
GATE_HOPS = 6
#: Hops gathered before the slow lane runs.
SLOW_HOPS = 8
#: Below this confidence a pitch estimate is reported as unvoiced (0 Hz).
PITCH_CONFIDENCE = 0.2
#: Beats whose intervals give the tempo (aubio's own estimate is quantised by its hop).
BPM_BEATS = 8
#: The tempo is reported as unknown (0) once no beat has come for this long, seconds.
TEMPO_HOLD_S = 4.0
#: A beat is reported only this long after the level last reached the silence level.
BEAT_HOLD_S = 1.0


def unit_level(level_db: float, floor_db: float) -> float:
    """Map a level in dBFS from ``floor_db`` (0) to 0 dBFS (1), clipped to [0, 1]."""
    return min(1.0, max(0.0, (level_db - floor_db) / -floor_db))


@dataclass(frozen=True)
class DetectorGeometry:
    """The inflection detector's windows in spectrogram columns."""

    smoothing: int
    lookback: int
    lookahead: int
    spacing: int
    halflife: float
    columns_per_second: float

    @classmethod
    def from_settings(cls, s: InflectionSettings, sample_rate: float) -> DetectorGeometry:
        """Convert the settings' seconds to columns at ``sample_rate``."""

        def cols(seconds: float) -> int:
            return seconds_to_columns(seconds, sample_rate=sample_rate, hop=s.spectral_hop)

        return cls(
            smoothing=cols(s.smoothing_s),
            lookback=cols(s.lookback_s),
            lookahead=cols(s.lookahead_s),
            spacing=cols(s.min_spacing_s),
            halflife=s.normaliser_halflife_s * sample_rate / s.spectral_hop,
            columns_per_second=sample_rate / s.spectral_hop,
        )


def make_scanner(s: InflectionSettings, geometry: DetectorGeometry) -> InflectionScanner:
    """Build the causal scanner for these settings.

    Parameters
    ----------
    s : InflectionSettings
        ``s.detector`` chooses the scanner: ``"seed"`` (:class:`InflectionScanner`,
        the original's test on the look-ahead's mean) or ``"predictive"``
        (:class:`~ganterp.live.analysis.inflection.PredictiveScanner`, the same test on the
        whole window's mean predicted from the look-ahead); thresholds and mode.
    geometry : DetectorGeometry
        The windows in columns.

    Returns
    -------
    InflectionScanner
        A scanner fed curve values with ``push``; both kinds return the
        inflections decided as :class:`~ganterp.live.analysis.inflection.Inflection`.

    Raises
    ------
    ValueError
        An unknown ``s.detector``.
    """
    kinds: dict[str, type[InflectionScanner]] = {
        "seed": InflectionScanner,
        "predictive": PredictiveScanner,
    }
    if s.detector not in kinds:
        raise ValueError(f"detector must be one of {sorted(kinds)}, not {s.detector!r}")
    return kinds[s.detector](
        lookback=geometry.lookback,
        lookahead=geometry.lookahead,
        spacing=geometry.spacing,
        threshold=s.threshold,
        absolute_threshold=s.absolute_threshold,
        mode=s.mode,
        columns_per_second=geometry.columns_per_second,
    )


class Analyzer:
    """Streaming analysis of a signal.

    Parameters
    ----------
    sample_rate : int
        The input's sample rate in Hz: of the samples given to :meth:`process`
        and of the frame numbers it takes and reports.
    analysis : AnalysisSettings
        Hop, window and detector settings (sizes in samples at ``ANALYSIS_RATE``).
    inflection : InflectionSettings
        The inflection detector's settings.

    Attributes
    ----------
    sample_rate : int
        The input's sample rate in Hz.
    analysis_rate : int
        The rate everything is analysed at, Hz (``ANALYSIS_RATE``).
    hop : int
        Analysis samples per hop (one :class:`AudioFeatures` each).

    Raises
    ------
    ValueError
        A sample rate that is not a positive whole number of Hz.
    """

    def __init__(
        self, sample_rate: int, analysis: AnalysisSettings, inflection: InflectionSettings
    ) -> None:
        if isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or sample_rate <= 0:
            raise ValueError(
                f"sample_rate must be a positive whole number of Hz, not {sample_rate!r}"
            )
        self.sample_rate = int(sample_rate)
        self.analysis_rate = sr = ANALYSIS_RATE
        # Input frames per analysis sample; exactly 1.0 at 44.1 kHz (frames stay exact).
        self._to_input = self.sample_rate / sr
        self._resampler = StreamResampler(self.sample_rate, sr)
        self.hop = hop = analysis.hop
        self.window = max(analysis.window, hop)
        self.tempo_hop = 2 * hop
        self.tempo_window = 2 * self.window
        self.pitch_hop = 4 * hop
        self.slow_block = SLOW_HOPS * hop
        self._onset = aubio.onset(analysis.onset_method, self.window, hop, sr)
        self._onset.set_silence(-200.0)
        self._tempo = aubio.tempo("specdiff", self.tempo_window, self.tempo_hop, sr)
        self._tempo.set_silence(-200.0)
        # "yinfast": aubio 0.4.9's "yinfft" reports zero confidence for mid-range notes.
        self._pitch = aubio.pitch(
            "yinfast", max(self.tempo_window, self.pitch_hop), self.pitch_hop, sr
        )
        self._pitch.set_unit("Hz")
        self._pitch.set_silence(-200.0)
        self.settings = analysis
        self.apply_settings(analysis)
        # aubio's copy of the newest samples (with AUBIO_OFFSET), long enough for
        # the slowest detector to look back from any hop of the next block.
        self._history = np.full(
            max(self.tempo_window, self.pitch_hop), AUBIO_OFFSET, dtype=np.float32
        )
        self._pending = np.zeros(0, dtype=np.float32)
        # Band levels: one matrix turns a power spectrum into the three band powers.
        self._band_window = np.hanning(self.tempo_window).astype(np.float32)
        freqs = np.fft.rfftfreq(self.tempo_window, 1.0 / sr)
        masks = (
            (freqs > 20.0) & (freqs < analysis.low_band_hz),
            (freqs >= analysis.low_band_hz) & (freqs < analysis.high_band_hz),
            freqs >= analysis.high_band_hz,
        )
        norm = 2.0 / float(np.sum(self._band_window) ** 2)
        self._band_matrix = np.stack([m.astype(np.float32) * norm for m in masks], axis=1)
        # The inflection detector (slow lane).
        self.inflection_settings = inflection
        self.geometry = DetectorGeometry.from_settings(inflection, sr)
        self._spectral = SpectralChangeStream(
            sample_rate=sr, nfft=inflection.nfft, hop=inflection.spectral_hop
        )
        self._tracker = CurveTracker(
            smoothing=self.geometry.smoothing, halflife=self.geometry.halflife
        )
        self._scanner = make_scanner(inflection, self.geometry)
        self._spectrum = SpectrumStream(sample_rate=sr)
        self._flux = 0.0
        self._chroma: tuple[float, ...] = ()
        self._slow_parts: list[np.ndarray] = []
        self._slow_len = 0
        # Bookkeeping. Positions are in analysis samples on the input's clock
        # (position / ANALYSIS_RATE is the audio time in seconds).
        self._frame = 0.0  # position of the sample after the last complete hop
        self._next_input = 0  # absolute input frame of the next sample expected
        # Position of the spectral stream's sample 0, per stretch between gaps:
        # (first column of the stretch, origin). Columns map to audio time through it.
        self._origins: list[tuple[int, float]] = [(0, 0.0)]
        self._scanner_offset = 0  # spectral column at which the current scanner started
        self._aubio_frames = 0  # samples fed to the onset detector so far
        self._started = False
        self._hops = 0
        self._recent_db = [SILENCE_DB] * GATE_HOPS
        self._loud_until = -math.inf
        self._beats = 0
        self._beat_times: deque[float] = deque(maxlen=BPM_BEATS + 1)
        self._bpm = 0.0
        self._steady_bpm = 0.0
        self._pitch_hz = 0.0
        self._pitch_conf = 0.0
        self._change = 0.0
        self._curve = 0.0
        self._bands_db = (SILENCE_DB, SILENCE_DB, SILENCE_DB)
        self._bands = (0.0, 0.0, 0.0)
        self._unreported_bad = 0
        self.bad_samples = 0
        self.gaps = 0

    # -- settings that may change while running -------------------------------------------
    def apply_settings(self, analysis: AnalysisSettings) -> None:
        """Apply the settings that can change while running (thresholds, floors)."""
        self.settings = analysis
        self._onset.set_threshold(analysis.onset_threshold)
        self._onset.set_minioi_s(analysis.min_onset_interval_s)

    def apply_inflection_settings(self, inflection: InflectionSettings) -> None:
        """Apply new detector thresholds and windows (the scan restarts, the curve goes on)."""
        self.inflection_settings = inflection
        self.geometry = DetectorGeometry.from_settings(inflection, self.analysis_rate)
        self._scanner = make_scanner(inflection, self.geometry)
        self._scanner_offset = self._spectral.columns

    @property
    def frame(self) -> int:
        """Absolute index (input rate) of the next sample the analyzer expects."""
        return self._next_input

    @property
    def curve_columns_per_second(self) -> float:
        """Rate of the spectral-change curve, columns per second."""
        return self.geometry.columns_per_second

    @property
    def latency_s(self) -> float:
        """Audio the rate converter holds back now, seconds (0 at 44.1 kHz input)."""
        return self._resampler.delay_s

    def input_frame(self, position: float) -> int:
        """The input frame (nearest) at an analysis position.

        Parameters
        ----------
        position : float
            Position in analysis samples on the input's clock.

        Returns
        -------
        int
            Absolute input sample index (the same number at 44.1 kHz input).
        """
        return round(position * self._to_input)

    # -- processing ---------------------------------------------------------------------
    def process(
        self, samples: np.ndarray, start_frame: int | None = None
    ) -> tuple[list[AudioFeatures], list[Event]]:
        """Analyse the next samples.

        Parameters
        ----------
        samples : np.ndarray, shape (n,) or (n, channels)
            Audio in [-1, 1] at the input rate; channels are averaged. NaN and
            infinite samples are replaced by silence and counted; values beyond
            ±1 are clipped.
        start_frame : int, optional
            Absolute index (input rate) of the first sample. A jump (samples lost
            upstream) restarts the hop grid there; the detectors carry on.

        Returns
        -------
        features : list of AudioFeatures
            One per completed hop (of ``hop`` analysis samples), oldest first;
            their ``frame`` is the input frame nearest the hop's end.
        events : list of Onset, Beat and Inflection
            In the order they were found.
        """
        x = np.asarray(samples)
        x = to_mono(x, dtype=x.dtype)
        events: list[Event] = []
        features = self._sync(start_frame, events)
        energy = float(np.dot(x, x))  # NaN or inf inside (or absurdly loud) makes it non-finite
        if not math.isfinite(energy):
            bad = ~np.isfinite(x)
            n_bad = int(np.count_nonzero(bad))
            x = np.where(bad, 0.0, x)
            self.bad_samples += n_bad
            self._unreported_bad += n_bad
        # Clip in the input's own precision, so that 1e39 is loud rather than infinite.
        x = np.clip(x, -1.0, 1.0).astype(np.float32, copy=False)
        self._next_input += x.shape[0]
        y = self._resampler.process(x)
        if not self._resampler.passthrough:
            np.clip(y, -1.0, 1.0, out=y)  # the converter's ripple may overshoot a little
        features += self._run_hops(y, events)
        return features, events

    def _run_hops(self, y: np.ndarray, events: list[Event]) -> list[AudioFeatures]:
        """Analyse every hop that the next samples complete.

        Parameters
        ----------
        y : np.ndarray, shape (m,), float32
            The next samples at the analysis rate, in [-1, 1].
        events : list of Event
            Events found are appended to it.

        Returns
        -------
        list of AudioFeatures
            One per completed hop, oldest first.
        """
        buf = np.concatenate([self._pending, y]) if self._pending.size else y
        hop = self.hop
        n_hops = buf.shape[0] // hop
        used = n_hops * hop
        self._pending = buf[used:].copy()
        if n_hops == 0:
            return []
        body = buf[:used]
        self._feed_slow_lane(body, events)

        # aubio's copy of the signal, after the newest samples of the previous call.
        ext = np.concatenate([self._history, body + AUBIO_OFFSET])
        self._history = ext[-self._history.shape[0] :].copy()
        base = ext.shape[0] - used  # index in ext of body[0]
        floor = self.settings.level_floor_db
        hops = body.reshape(n_hops, hop)
        power = np.einsum("ij,ij->i", hops, hops) / hop
        rms_db_l = [10.0 * math.log10(p) if p > 1e-12 else SILENCE_DB for p in power.tolist()]
        level_l = [unit_level(v, floor) for v in rms_db_l]

        sr = self.analysis_rate
        in_rate = self.sample_rate
        to_input = self._to_input
        silence = self.settings.silence_db
        onset_fn, tempo_fn, pitch_fn = self._onset, self._tempo, self._pitch
        recent = self._recent_db
        features: list[AudioFeatures] = []
        for h in range(n_hops):
            end = round((self._frame + (h + 1) * hop) * to_input)  # input frame of the hop's end
            time_s = end / in_rate
            a = base + h * hop
            level_db = rms_db_l[h]
            recent[self._hops % GATE_HOPS] = level_db
            if level_db >= silence:
                self._loud_until = time_s + BEAT_HOLD_S
            self._hops += 1
            onset = bool(onset_fn(ext[a : a + hop])[0]) and max(recent) >= silence
            if onset:
                when = (self._frame + onset_fn.get_last() - self._aubio_frames) / sr
                events.append(Onset(time_s=min(when, time_s), frame=end))
            beat = False
            if self._hops % 2 == 0:
                beat = bool(tempo_fn(ext[a + hop - self.tempo_hop : a + hop])[0])
                beat = beat and time_s <= self._loud_until
                if beat:
                    self._beat_times.append(time_s)
                    self._steady_bpm = self._estimate_bpm()
                last_beat = self._beat_times[-1] if self._beat_times else -math.inf
                if time_s - last_beat > TEMPO_HOLD_S:  # no beat for a while: no tempo
                    self._bpm = self._steady_bpm = 0.0
                elif self._steady_bpm > 0:
                    self._bpm = self._steady_bpm
                else:
                    bpm = float(tempo_fn.get_bpm())
                    self._bpm = bpm if math.isfinite(bpm) and bpm > 0 else 0.0
                if beat:
                    events.append(Beat(time_s=time_s, frame=end, bpm=self._bpm, index=self._beats))
                    self._beats += 1
            if self._hops % 4 == 0:
                pitch = float(pitch_fn(ext[a + hop - self.pitch_hop : a + hop])[0])
                confidence = min(1.0, max(0.0, float(pitch_fn.get_confidence())))
                voiced = (
                    math.isfinite(pitch)
                    and pitch > 0
                    and confidence >= PITCH_CONFIDENCE
                    and level_db >= silence
                )
                self._pitch_hz = pitch if voiced else 0.0
                self._pitch_conf = confidence if level_db >= silence else 0.0
            features.append(
                AudioFeatures(
                    time_s,
                    end,
                    level_db,
                    level_l[h],
                    self._bands_db,
                    self._bands,
                    self._change,
                    self._curve,
                    onset,
                    beat,
                    self._bpm,
                    self._pitch_hz,
                    self._pitch_conf,
                    self._unreported_bad if h == 0 else 0,
                    self._flux,
                    self._chroma,
                )
            )
        self._unreported_bad = 0
        self._frame += used
        self._aubio_frames += used
        return features

    def _estimate_bpm(self) -> float:
        """Tempo from the latest beats' mean interval while they are steady, else 0.

        aubio's own estimate is quantised by its hop (about 1 % at 120 BPM); the mean
        interval over several beats averages that out.
        """
        times = self._beat_times
        if len(times) < 5:
            return 0.0
        intervals = np.diff(np.asarray(times))
        median = float(np.median(intervals))
        # Only while the beats are steady (no gap, no tempo change among them).
        if median <= 0 or float(np.max(np.abs(intervals - median))) >= 0.15 * median:
            return 0.0
        return 60.0 * (len(times) - 1) / (times[-1] - times[0])

    def _sync(self, start_frame: int | None, events: list[Event]) -> list[AudioFeatures]:
        """Follow the caller's absolute frame numbering; count jumps as gaps.

        Returns
        -------
        list of AudioFeatures
            At a gap, the hops that the rate converter's held-back output
            completes (they come before the gap); else none.
        """
        if start_frame is None or start_frame == self._next_input:
            self._started = True
            return []
        features: list[AudioFeatures] = []
        if self._started:
            self.gaps += 1
            features = self._run_hops(self._resampler.flush(), events)
            self._feed_slow_lane(np.zeros(0, dtype=np.float32), events, force=True)
        self._started = True
        # The spectral stream has had every complete hop (the pending part of an
        # unfinished hop is dropped): its next sample was at position self._frame.
        position = int(start_frame) / self._to_input
        shift = position - self._frame
        first_column, origin = self._origins[-1]
        columns = self._spectral.columns
        if columns == first_column:
            self._origins[-1] = (first_column, origin + shift)
        else:
            self._origins.append((columns, origin + shift))
            del self._origins[:-64]  # old stretches can no longer hold undecided candidates
        self._pending = np.zeros(0, dtype=np.float32)
        self._frame = position
        self._next_input = int(start_frame)
        return features

    def _column_time(self, column: int) -> float:
        """Audio-clock time of spectral column ``column``, seconds."""
        origin = self._origins[0][1]
        for first, o in self._origins:
            if first > column:
                break
            origin = o
        return (origin + column * self._spectral.hop) / self.analysis_rate

    def _feed_slow_lane(self, body: np.ndarray, events: list[Event], force: bool = False) -> None:
        """Gather audio; once a block has gathered, run the vectorised detectors."""
        self._slow_parts.append(body)
        self._slow_len += body.shape[0]
        if self._slow_len < self.slow_block and not (force and self._slow_len):
            return
        block = np.concatenate(self._slow_parts)
        self._slow_parts.clear()
        self._slow_len = 0
        spectral = self._spectral
        change = spectral.push(block)
        if change.size:
            normalised, curve = self._tracker.push(change)
            self._change = float(normalised[-1])
            self._curve = float(curve[-1])
            for inf in self._scanner.push(curve):
                column = self._scanner_offset + inf.index
                events.append(
                    Inflection(
                        index=column,
                        time_s=self._column_time(column),
                        strength=inf.strength,
                        decided_index=self._scanner_offset + inf.decided_index,
                    )
                )
        self._spectrum.push(block)
        self._flux = self._spectrum.flux
        self._chroma = self._spectrum.chroma
        # Band levels over the newest window.
        tail = block[-self.tempo_window :]
        if tail.shape[0] == self.tempo_window:
            spectrum = np.fft.rfft(tail * self._band_window)
            band_power = (spectrum.real**2 + spectrum.imag**2) @ self._band_matrix
            floor = self.settings.level_floor_db
            values = [
                max(10.0 * math.log10(p), SILENCE_DB) if p > 0 else SILENCE_DB
                for p in band_power.tolist()
            ]
            self._bands_db = (values[0], values[1], values[2])
            self._bands = (
                unit_level(values[0], floor),
                unit_level(values[1], floor),
                unit_level(values[2], floor),
            )
