"""What the analysis hears, hop by hop, and the events it finds."""

from __future__ import annotations

from dataclasses import dataclass

from ganterp.live.analysis.inflection import Inflection

__all__ = ["AudioFeatures", "Beat", "Event", "Inflection", "Onset"]


@dataclass(frozen=True, slots=True)
class AudioFeatures:
    """Features of one analysis hop.

    Attributes
    ----------
    time_s : float
        Audio-clock time of the hop's last sample, in seconds.
    frame : int
        Absolute index of the sample just after the hop.
    rms_db : float
        Level over the hop, dBFS (-120 for silence).
    level : float
        ``rms_db`` mapped from the floor level to 0 dBFS onto [0, 1].
    bands_db : tuple of float
        Low, mid and high band levels over the analysis window, dBFS.
    bands : tuple of float
        The band levels mapped onto [0, 1] like ``level``.
    change : float
        Newest spectral change over its running maximum, [0, 1].
    curve : float
        Smoothed spectral change (the inflection detector's curve), [0, 1].
    onset : bool
        An onset was detected in this hop.
    beat : bool
        The beat tracker placed a beat in this hop.
    bpm : float
        Current tempo estimate, beats per minute (0 until known).
    pitch_hz : float
        Fundamental frequency estimate in Hz (0 when unvoiced).
    pitch_confidence : float
        Confidence of the pitch estimate, [0, 1].
    bad_samples : int
        NaN or infinite samples replaced by silence in this hop.
    flux : float
        Spectral flux (the magnitude spectrum's rise over about 46 ms, 93 ms
        window) over its running maximum, [0, 1]: how much new sound there is.
    chroma : tuple of float
        Energy of the 12 pitch classes (C, C#, ... B) over the newest 93 ms, the
        strongest 1; empty until known, all zero in silence.
    """

    time_s: float
    frame: int
    rms_db: float
    level: float
    bands_db: tuple[float, float, float]
    bands: tuple[float, float, float]
    change: float
    curve: float
    onset: bool
    beat: bool
    bpm: float
    pitch_hz: float
    pitch_confidence: float
    bad_samples: int = 0
    flux: float = 0.0
    chroma: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Onset:
    """A note or hit begins.

    Attributes
    ----------
    time_s : float
        When it began on the audio clock (aubio's delay-compensated estimate), s.
    frame : int
        Absolute sample index of the hop in which it was detected.
    """

    time_s: float
    frame: int


@dataclass(frozen=True, slots=True)
class Beat:
    """A beat of the tracked tempo.

    Attributes
    ----------
    time_s : float
        When it falls on the audio clock, s.
    frame : int
        Absolute sample index of the hop in which it was placed.
    bpm : float
        Tempo at that beat, beats per minute.
    index : int
        Count of beats so far, from 0.
    """

    time_s: float
    frame: int
    bpm: float
    index: int


Event = Onset | Beat | Inflection
