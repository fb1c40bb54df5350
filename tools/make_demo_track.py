#!/usr/bin/env python3
"""Synthesise ganterp's bundled demo track and encode it as Ogg/Opus.

The track is composed procedurally (numpy only, fixed seed), so it is fully
reproducible and free of third-party rights. It is electronic music at 120 BPM
in 4/4 and A minor (Am–F–C–G), in four sections of clearly different character,
separated by one-second breaks that hold only a very soft pad, so that the show's
section finder (calm low points of spectral change) and beat tracker both have
something clear to find:

========= ============ ========================================================
Section   Default time Content
========= ============ ========================================================
intro     0 – 8 s      soft pad with a slow filter sweep, closed hi-hats
break     8 – 9 s      near silence (very soft pad)
groove    9 – 19 s     kick on every beat, clap on 2 and 4, bassline, hats, pad
break     19 – 20 s    near silence
breakdown 20 – 28 s    plucked arpeggio with ping-pong echo over pad, no drums
break     28 – 29 s    near silence
drop      29 – 39 s    kick, clap, bass, lead melody, hats, pad; fades out
outro     39 – 40 s    the soft pad rings out to silence
========= ============ ========================================================

Every event sits sample-accurately on one 120 BPM grid that starts at t = 0
(beat period 0.5 s = 24 000 samples at 48 kHz); the first kick is at 9.0 s.

Usage::

    python tools/make_demo_track.py [--out live/data/demo.ogg] [--seconds 40]

``--seconds`` scales the four sections (rounded to whole bars); the breaks stay
two beats long.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

SR = 48_000
"""Sample rate in Hz."""
BPM = 120.0
"""Tempo in beats per minute."""
BEAT = 60.0 / BPM
"""Beat period in seconds (0.5 s)."""
BEAT_SAMPLES = round(BEAT * SR)
"""Beat period in samples (24 000)."""
SEED = 20_240_601
"""Seed of the only random generator used (noise for drums)."""
PEAK_DBFS = -1.0
"""Target peak level of the final mix."""
BITRATE = 128_000
"""Opus bit rate in bit/s."""

DEFAULT_OUT = Path(__file__).resolve().parent.parent / "live" / "data" / "demo.ogg"

# A minor: Am – F – C – G, one chord per bar (MIDI note numbers).
PAD_CHORDS: tuple[tuple[int, ...], ...] = (
    (57, 60, 64, 69),  # Am: A3 C4 E4 A4
    (57, 60, 65, 69),  # F:  A3 C4 F4 A4
    (55, 60, 64, 67),  # C:  G3 C4 E4 G4
    (55, 59, 62, 67),  # G:  G3 B3 D4 G4
)
BASS_ROOTS: tuple[int, ...] = (45, 41, 48, 43)  # A2 F2 C3 G2
ARP_TONES: tuple[tuple[int, ...], ...] = (
    (69, 72, 76, 81),  # A4 C5 E5 A5
    (65, 69, 72, 77),  # F4 A4 C5 F5
    (67, 72, 76, 79),  # G4 C5 E5 G5
    (67, 71, 74, 79),  # G4 B4 D5 G5
)
# Lead melody of the drop, per bar: (beat in bar, length in beats, MIDI note).
LEAD_BARS: tuple[tuple[tuple[float, float, int], ...], ...] = (
    (
        (0.0, 1.0, 76),
        (1.0, 0.5, 81),
        (1.5, 0.5, 79),
        (2.0, 1.0, 76),
        (3.0, 0.5, 74),
        (3.5, 0.5, 72),
    ),
    ((0.0, 1.0, 72), (1.0, 0.5, 69), (1.5, 0.5, 72), (2.0, 1.5, 77), (3.5, 0.5, 76)),
    (
        (0.0, 1.0, 76),
        (1.0, 0.5, 79),
        (1.5, 0.5, 76),
        (2.0, 1.0, 72),
        (3.0, 0.5, 74),
        (3.5, 0.5, 76),
    ),
    ((0.0, 1.5, 74), (1.5, 0.5, 71), (2.0, 1.0, 67), (3.0, 0.5, 71), (3.5, 0.5, 74)),
)
LEAD_LAST_BAR: tuple[tuple[float, float, int], ...] = ((0.0, 1.0, 72), (1.0, 3.0, 69))


# ----------------------------------------------------------------------------------------
# Arrangement
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    """One part of the arrangement on the beat grid.

    Attributes
    ----------
    name : str
        ``"intro"``, ``"break"``, ``"groove"``, ``"breakdown"``, ``"drop"`` or ``"outro"``.
    start_beat : int
        First beat of the section (beat 0 is t = 0).
    n_beats : int
        Length in beats.
    """

    name: str
    start_beat: int
    n_beats: int

    @property
    def start(self) -> float:
        """Start time in seconds."""
        return self.start_beat * BEAT

    @property
    def end(self) -> float:
        """End time in seconds."""
        return (self.start_beat + self.n_beats) * BEAT

    @property
    def start_sample(self) -> int:
        """Start in samples."""
        return self.start_beat * BEAT_SAMPLES

    @property
    def end_sample(self) -> int:
        """End in samples (exclusive)."""
        return (self.start_beat + self.n_beats) * BEAT_SAMPLES


def plan_sections(seconds: float = 40.0) -> list[Section]:
    """Lay out the sections for a track of about ``seconds`` seconds.

    Parameters
    ----------
    seconds : float
        Wanted total length. At 40 s the plan is 8 + 1 + 10 + 1 + 8 + 1 + 10 + 1 s.

    Returns
    -------
    list of Section
        Contiguous sections covering the whole track, in order.
    """
    scale = seconds / 40.0
    base = (("intro", 16), ("groove", 20), ("breakdown", 16), ("drop", 20))
    plan: list[tuple[str, int]] = []
    for i, (name, n) in enumerate(base):
        plan.append((name, max(4, round(n * scale / 4) * 4)))
        plan.append(("break" if i < len(base) - 1 else "outro", 2))
    out: list[Section] = []
    beat = 0
    for name, n in plan:
        out.append(Section(name, beat, n))
        beat += n
    return out


# ----------------------------------------------------------------------------------------
# Synthesis primitives
# ----------------------------------------------------------------------------------------


def midi_hz(note: float) -> float:
    """Frequency of a MIDI note number (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def seconds_axis(duration: float) -> np.ndarray:
    """Time in seconds of each sample of a signal lasting ``duration`` seconds."""
    return np.arange(round(duration * SR)) / SR


def adsr(
    n: int, attack: float, decay: float, sustain: float, release: float, gate: float
) -> np.ndarray:
    """Linear-attack, exponential decay/release envelope.

    Parameters
    ----------
    n : int
        Length in samples.
    attack, decay, release : float
        Times in seconds (decay and release are exponential time constants).
    sustain : float
        Sustain level, 0 to 1.
    gate : float
        Time in seconds at which the note is released.

    Returns
    -------
    numpy.ndarray
        Envelope of length ``n``.
    """
    t = np.arange(n) / SR
    env = np.where(
        t < attack,
        t / max(attack, 1e-6),
        sustain + (1.0 - sustain) * np.exp(-(t - attack) / max(decay, 1e-6)),
    )
    at_gate = float(
        gate / max(attack, 1e-6)
        if gate < attack
        else sustain + (1.0 - sustain) * np.exp(-(gate - attack) / max(decay, 1e-6))
    )
    rel = at_gate * np.exp(-(t - gate) / max(release, 1e-6))
    return np.where(t < gate, env, rel)


def saw(
    freq: np.ndarray | float,
    n: int,
    cutoff: np.ndarray | float,
    phase0: float = 0.0,
    odd_only: bool = False,
) -> np.ndarray:
    """Band-limited additive sawtooth (or square) through a two-pole lowpass.

    Each harmonic ``k`` is weighted by ``1/k`` and by the magnitude response
    ``1 / (1 + (k f / fc)^2)`` of a lowpass at cutoff ``fc``; both ``f`` and ``fc``
    may vary per sample, so filter envelopes and vibrato cost nothing extra and
    nothing aliases.

    Parameters
    ----------
    freq : numpy.ndarray or float
        Fundamental frequency in Hz, per sample or constant.
    n : int
        Length in samples.
    cutoff : numpy.ndarray or float
        Lowpass cutoff in Hz, per sample or constant.
    phase0 : float
        Starting phase in radians.
    odd_only : bool
        Odd harmonics only (a square-ish wave).

    Returns
    -------
    numpy.ndarray
        The signal, peak roughly within ±1.
    """
    f = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    fc = np.broadcast_to(np.asarray(cutoff, dtype=np.float64), (n,))
    phase = phase0 + 2.0 * np.pi * np.cumsum(f) / SR
    z = np.exp(1j * phase)
    zk = z.copy()
    f_max = float(f.max())
    k_max = int(min(16_000.0 / f_max, 12.0 * float(fc.max()) / f_max, 80))
    out = np.zeros(n)
    ratio = f / fc
    for k in range(1, max(k_max, 1) + 1):
        if not (odd_only and k % 2 == 0):
            out += zk.imag * (1.0 / k) / (1.0 + (k * ratio) ** 2)
        zk *= z
    return out * (2.0 / np.pi)


def shaped_noise(
    rng: np.random.Generator, n: int, low: float, high: float, order: int = 2
) -> np.ndarray:
    """White noise shaped by a smooth band-pass in the frequency domain.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Length in samples.
    low, high : float
        Band edges in Hz (Butterworth-like magnitude of the given ``order``).
    order : int
        Steepness of the edges.

    Returns
    -------
    numpy.ndarray
        Noise with unit RMS.
    """
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / SR)
    f[0] = 1e-3
    mag = 1.0 / np.sqrt(1.0 + (low / f) ** (2 * order)) / np.sqrt(1.0 + (f / high) ** (2 * order))
    out = np.fft.irfft(spec * mag, n)
    return out / (np.sqrt(np.mean(out**2)) + 1e-12)


def one_pole_lowpass(x: np.ndarray, cutoff: float) -> np.ndarray:
    """Static one-pole lowpass, applied exactly in the frequency domain (zero-padded)."""
    a = np.exp(-2.0 * np.pi * cutoff / SR)
    n_ir = min(len(x), int(np.ceil(np.log(1e-6) / np.log(a))) + 1)
    ir = (1.0 - a) * a ** np.arange(n_ir)
    n_fft = 1 << int(np.ceil(np.log2(len(x) + n_ir)))
    y = np.fft.irfft(np.fft.rfft(x, n_fft) * np.fft.rfft(ir, n_fft), n_fft)
    return y[: len(x)]


# ----------------------------------------------------------------------------------------
# Instruments (each returns a mono one-shot)
# ----------------------------------------------------------------------------------------


def kick(rng: np.random.Generator) -> np.ndarray:
    """Pitch-dropping sine kick with a short click, so onsets are sharp."""
    t = seconds_axis(0.42)
    f = 48.0 + 130.0 * np.exp(-t / 0.028)
    body = np.sin(2.0 * np.pi * np.cumsum(f) / SR) * np.exp(-t / 0.22)
    click = shaped_noise(rng, len(t), 1500.0, 9000.0) * np.exp(-t / 0.0025) * 0.25
    x = body + click
    x = np.tanh(1.6 * x) / np.tanh(1.6)
    x[: int(0.0005 * SR)] *= np.linspace(0.3, 1.0, int(0.0005 * SR))
    tail = np.ones_like(t)
    tail[-int(0.03 * SR) :] = np.linspace(1.0, 0.0, int(0.03 * SR))
    return x * tail


def clap(rng: np.random.Generator) -> np.ndarray:
    """Hand clap: three micro-bursts of band-passed noise, a soft tail, a snare body."""
    t = seconds_axis(0.35)
    noise = shaped_noise(rng, len(t), 900.0, 5500.0)
    env = np.zeros_like(t)
    for off in (0.0, 0.011, 0.022):
        env += np.where(t >= off, np.exp(-(t - off) / 0.006), 0.0)
    env = 0.6 * env + np.where(t >= 0.022, np.exp(-(t - 0.022) / 0.07), 0.0)
    body = np.sin(2.0 * np.pi * 185.0 * t) * np.exp(-t / 0.05) * 0.5
    return 0.5 * noise * env + body


def hat(rng: np.random.Generator, open_: bool = False) -> np.ndarray:
    """Closed (about 30 ms) or open (about 150 ms) hi-hat of high-passed noise."""
    t = seconds_axis(0.45 if open_ else 0.12)
    noise = shaped_noise(rng, len(t), 7000.0, 13_000.0, order=3)
    decay = 0.11 if open_ else 0.022
    env = np.exp(-t / decay)
    env[: int(0.0008 * SR)] *= np.linspace(0.0, 1.0, int(0.0008 * SR))
    return 0.3 * noise * env


def pad_note(note: int, duration: float, cutoff: np.ndarray | float, detune: float) -> np.ndarray:
    """Soft detuned saw pad note with slow attack and release.

    Parameters
    ----------
    note : int
        MIDI note.
    duration : float
        Held time in seconds (the release adds 0.6 s).
    cutoff : numpy.ndarray or float
        Lowpass cutoff in Hz (constant or per sample over the whole note).
    detune : float
        Detune in cents.

    Returns
    -------
    numpy.ndarray
        The note.
    """
    n = round((duration + 0.6) * SR)
    f0 = midi_hz(note + detune / 100.0)
    t = np.arange(n) / SR
    f = f0 * (1.0 + 0.0015 * np.sin(2.0 * np.pi * 0.35 * t + note))
    x = saw(f, n, cutoff, phase0=note * 1.7) + 0.6 * saw(f * 1.004, n, cutoff, phase0=note * 2.3)
    return x * adsr(n, 0.35, 0.8, 0.8, 0.25, duration) * 0.5


def pluck(note: int, bright: float = 1.0) -> np.ndarray:
    """Plucked arpeggio note: square-ish wave with a fast-closing filter."""
    n = round(0.45 * SR)
    t = np.arange(n) / SR
    f0 = midi_hz(note)
    cutoff = f0 * 0.8 + 3500.0 * bright * np.exp(-t / 0.07)
    x = 0.7 * saw(f0, n, cutoff, odd_only=True) + 0.3 * saw(f0 * 2.0, n, cutoff)
    env = np.exp(-t / 0.16)
    env[: int(0.002 * SR)] *= np.linspace(0.0, 1.0, int(0.002 * SR))
    env[-int(0.02 * SR) :] *= np.linspace(1.0, 0.0, int(0.02 * SR))
    return x * env


def bass_note(note: int, length: float) -> np.ndarray:
    """Bass: filtered saw plus a sine sub an octave down, with a plucky filter envelope."""
    n = round((length + 0.08) * SR)
    t = np.arange(n) / SR
    f0 = midi_hz(note)
    cutoff = 180.0 + 900.0 * np.exp(-t / 0.07)
    x = 0.7 * saw(f0, n, cutoff) + 0.55 * np.sin(2.0 * np.pi * f0 / 2.0 * t)
    x = np.tanh(1.4 * x) / np.tanh(1.4)
    return x * adsr(n, 0.004, 0.15, 0.6, 0.03, length)


def lead_note(note: int, length: float, detune: float) -> np.ndarray:
    """Lead: saw with delayed vibrato and a softening filter."""
    n = round((length + 0.25) * SR)
    t = np.arange(n) / SR
    vib = 1.0 + 0.004 * np.sin(2.0 * np.pi * 5.2 * t) * np.clip((t - 0.15) / 0.2, 0.0, 1.0)
    f = midi_hz(note + detune / 100.0) * vib
    cutoff = 1400.0 + 2200.0 * np.exp(-t / 0.25)
    x = saw(f, n, cutoff, phase0=detune)
    return x * adsr(n, 0.012, 0.3, 0.7, 0.12, length)


# ----------------------------------------------------------------------------------------
# Mixing
# ----------------------------------------------------------------------------------------


class Mix:
    """Stereo mix bus of a fixed length with per-voice pan and Haas delay.

    Parameters
    ----------
    n : int
        Length in samples.
    """

    def __init__(self, n: int) -> None:
        self.buf = np.zeros((n, 2))

    def add(
        self,
        x: np.ndarray,
        at: int,
        gain: float = 1.0,
        pan: float = 0.0,
        delay_ms: float = 0.0,
    ) -> None:
        """Add a mono signal at sample ``at``.

        Parameters
        ----------
        x : numpy.ndarray
            Mono signal.
        at : int
            Start sample.
        gain : float
            Linear gain.
        pan : float
            -1 (left) to 1 (right), constant power.
        delay_ms : float
            Extra delay of the channel opposite to the pan (positive delays the
            right channel when ``pan`` is 0), for a little width.
        """
        angle = (pan + 1.0) * np.pi / 4.0
        gains = (np.cos(angle) * gain, np.sin(angle) * gain)
        shift = round(abs(delay_ms) * SR / 1000.0)
        delayed_ch = 0 if pan > 0 else 1
        for ch in (0, 1):
            start = at + (shift if ch == delayed_ch else 0)
            if start >= len(self.buf):
                continue
            end = min(len(self.buf), start + len(x))
            self.buf[start:end, ch] += gains[ch] * x[: end - start]

    def add_stereo(self, x: np.ndarray, at: int, gain: float = 1.0) -> None:
        """Add a stereo signal of shape ``(n, 2)`` at sample ``at``."""
        end = min(len(self.buf), at + len(x))
        if at < end:
            self.buf[at:end] += gain * x[: end - at]


def ping_pong(x: np.ndarray, delay: float, feedback: float, repeats: int) -> np.ndarray:
    """Ping-pong echo of a mono signal: echoes alternate right and left.

    Parameters
    ----------
    x : numpy.ndarray
        Dry mono signal.
    delay : float
        Echo time in seconds.
    feedback : float
        Gain of each further echo.
    repeats : int
        Number of echoes.

    Returns
    -------
    numpy.ndarray
        Wet stereo signal of shape ``(len(x) + repeats * delay, 2)``, echoes only,
        darkened a little per repeat.
    """
    d = round(delay * SR)
    out = np.zeros((len(x) + repeats * d, 2))
    echo = x
    for r in range(1, repeats + 1):
        echo = one_pole_lowpass(echo, 3500.0) * feedback
        out[r * d : r * d + len(x), r % 2] += echo
    return out


def sidechain(n: int, first_kick: int, every: int, depth: float) -> np.ndarray:
    """Pumping gain that dips after each kick of a run starting at ``first_kick``."""
    idx = np.arange(n)
    since = (idx - first_kick) % every
    g = 1.0 - depth * np.exp(-since / (0.11 * SR))
    return np.where(idx >= first_kick, g, 1.0)


# ----------------------------------------------------------------------------------------
# The track
# ----------------------------------------------------------------------------------------


def _beat_sample(section: Section, beat: float) -> int:
    """Sample of ``beat`` (may be fractional, on the 16th grid) within a section."""
    return section.start_sample + round(beat * BEAT_SAMPLES)


def _render_pads(section: Section, cutoff: Callable[[np.ndarray], np.ndarray], gain: float) -> Mix:
    """Pad chords, one per bar, for a section (a local mix the length of the section)."""
    mix = Mix(section.end_sample - section.start_sample + SR)
    n_bars = section.n_beats // 4
    for bar in range(n_bars):
        chord = PAD_CHORDS[bar % len(PAD_CHORDS)]
        hold = 4 * BEAT - 0.05
        t_abs = section.start + bar * 4 * BEAT + np.arange(round((hold + 0.6) * SR)) / SR
        fc = cutoff(t_abs - section.start)
        for i, note in enumerate(chord):
            pan = (-0.55, 0.55, -0.25, 0.25)[i]
            x = pad_note(note, hold, fc, detune=(-6.0, 5.0, 7.0, -4.0)[i])
            mix.add(x, bar * 4 * BEAT_SAMPLES, gain, pan, delay_ms=3.0 + i)
    return mix


def _section_gate(n_total: int, section: Section, fade_out: float) -> np.ndarray:
    """Gain that is 1 within a section, opens in 2 ms at its start, fades at its end."""
    g = np.zeros(n_total)
    a, b = section.start_sample, section.end_sample
    g[a:b] = 1.0
    n_open = int(0.002 * SR)
    g[max(0, a - n_open) : a] = np.linspace(0.0, 1.0, min(a, n_open))
    n_fade = int(fade_out * SR)
    g[b - n_fade : b] = np.linspace(1.0, 0.0, n_fade) ** 2
    return g


def render(seconds: float = 40.0, seed: int = SEED) -> tuple[np.ndarray, list[Section]]:
    """Synthesise the whole track.

    Parameters
    ----------
    seconds : float
        Wanted length (see :func:`plan_sections`).
    seed : int
        Seed for the noise of the drums.

    Returns
    -------
    audio : numpy.ndarray
        Float64 stereo samples, shape ``(n, 2)``, peak at ``PEAK_DBFS``.
    sections : list of Section
        The arrangement.
    """
    rng = np.random.default_rng(seed)
    sections = plan_sections(seconds)
    n_total = sections[-1].end_sample
    kick_x = kick(rng)
    clap_x = clap(rng)
    hats_closed = [hat(rng) for _ in range(4)]
    hats_open = [hat(rng, open_=True) for _ in range(2)]
    out = np.zeros((n_total, 2))

    for sec in sections:
        if sec.name in ("break", "outro"):
            continue
        mix = Mix(n_total)
        beats = range(sec.n_beats)
        n_bars = sec.n_beats // 4
        local_n = sec.end_sample - sec.start_sample + SR

        if sec.name == "intro":
            dur = sec.end - sec.start
            pads = _render_pads(
                sec, lambda t, d=dur: 450.0 + 1500.0 * np.clip(t / d, 0, 1) ** 1.5, 0.45
            )
            mix.add_stereo(pads.buf, sec.start_sample)
            for b in range(4, sec.n_beats):
                for half in (0.0, 0.5):
                    vel = 0.55 if half == 0.0 else 0.9
                    h = hats_closed[(2 * b + int(2 * half)) % 4]
                    mix.add(h, _beat_sample(sec, b + half), 0.9 * vel, 0.3, delay_ms=0.4)
            for b in range(sec.n_beats - 4, sec.n_beats):  # shaker 16ths in the last bar
                for q in (0.25, 0.75):
                    mix.add(hats_closed[b % 4], _beat_sample(sec, b + q), 0.22, -0.35)

        elif sec.name in ("groove", "drop"):
            drop = sec.name == "drop"
            for b in beats:
                mix.add(kick_x, _beat_sample(sec, b), 1.0)
                if b % 4 in (1, 3):
                    mix.add(clap_x, _beat_sample(sec, b), 0.42, 0.05, delay_ms=6.0)
                # hats: open on the off-beat, closed 16ths around it
                mix.add(hats_open[b % 2], _beat_sample(sec, b + 0.5), 0.45, 0.25, delay_ms=0.5)
                steps = (0.25, 0.75) if drop else (0.75,)
                for q in steps:
                    mix.add(hats_closed[b % 4], _beat_sample(sec, b + q), 0.3, -0.3, delay_ms=0.5)
            # bass: eighths with the octave on the off-beat
            local = Mix(local_n)
            for bar in range(n_bars):
                root = BASS_ROOTS[bar % 4]
                for e in range(8):
                    note = root + (12 if e % 2 == 1 else 0)
                    at = round((bar * 4 + e * 0.5) * BEAT_SAMPLES)
                    local.add(bass_note(note, 0.2), at, 0.9 if e % 2 else 1.0)
            pump = sidechain(local_n, 0, BEAT_SAMPLES, 0.55)
            mix.add_stereo(local.buf * pump[:, None], sec.start_sample, 0.42)
            pad_fc = 1100.0 if drop else 800.0
            pads = _render_pads(sec, lambda t, fc=pad_fc: np.full_like(t, fc), 0.16)
            mix.add_stereo(
                pads.buf * sidechain(local_n, 0, BEAT_SAMPLES, 0.7)[:, None], sec.start_sample
            )
            if drop:
                lead = Mix(local_n)
                for bar in range(n_bars):
                    phrase = LEAD_LAST_BAR if bar == n_bars - 1 else LEAD_BARS[bar % 4]
                    for beat, length, note in phrase:
                        at = round((bar * 4 + beat) * BEAT_SAMPLES)
                        lead.add(lead_note(note, length * BEAT - 0.03, -7.0), at, 0.5, -0.35)
                        lead.add(lead_note(note, length * BEAT - 0.03, 7.0), at, 0.5, 0.35, 4.0)
                dry = lead.buf.mean(axis=1)
                mix.add_stereo(lead.buf, sec.start_sample, 0.30)
                mix.add_stereo(ping_pong(dry, 0.75 * BEAT, 0.3, 3), sec.start_sample, 0.30)

        elif sec.name == "breakdown":
            pads = _render_pads(
                sec, lambda t: 900.0 + 500.0 * np.sin(2 * np.pi * t / 8.0) ** 2, 0.3
            )
            mix.add_stereo(pads.buf, sec.start_sample)
            arp = Mix(local_n)
            order = (0, 1, 2, 3, 2, 1, 2, 3)
            for bar in range(n_bars):
                tones = ARP_TONES[bar % 4]
                for s in range(16):
                    note = tones[order[s % 8]] + (12 if s in (7, 15) else 0)
                    bright = 0.6 + 0.4 * (bar + s / 16) / n_bars
                    at = round((bar * 4 + s * 0.25) * BEAT_SAMPLES)
                    arp.add(
                        pluck(note, bright), at, 0.9 if s % 4 == 0 else 0.65, (-0.2, 0.2)[s % 2]
                    )
            dry = arp.buf.mean(axis=1)
            mix.add_stereo(arp.buf, sec.start_sample, 0.5)
            mix.add_stereo(ping_pong(dry, 0.75 * BEAT, 0.4, 4), sec.start_sample, 0.5)
            # a soft sine bass holding each root
            for bar in range(n_bars):
                n = 4 * BEAT_SAMPLES
                t = np.arange(n) / SR
                env = np.minimum(1.0, t / 0.3) * np.minimum(1.0, (4 * BEAT - t) / 0.2)
                sub = np.sin(2.0 * np.pi * midi_hz(BASS_ROOTS[bar % 4] - 12) * t) * env
                mix.add(sub, sec.start_sample + bar * n, 0.35)

        fade = 0.12
        gate = _section_gate(n_total, sec, fade)
        if sec.name == "drop":  # final fade over the last bar
            n_last = 4 * BEAT_SAMPLES
            a = sec.end_sample - n_last
            gate[a : sec.end_sample] *= np.linspace(1.0, 0.0, n_last) ** 1.5
        out += mix.buf * gate[:, None]

    # Very soft pad through each break and the outro (Am, a few harmonics).
    for sec in sections:
        if sec.name not in ("break", "outro"):
            continue
        span = sec.end_sample - sec.start_sample
        if sec.name == "outro":
            a = sec.start_sample - 4 * BEAT_SAMPLES
            n = n_total - a
            t = np.arange(n) / SR
            env = np.minimum(1.0, t / 1.0) * np.clip((n / SR - t) / 2.0, 0.0, 1.0) ** 2
        else:
            a, n = sec.start_sample, span
            t = np.arange(n) / SR
            env = np.sin(np.pi * t / (n / SR)) ** 2
        for i, note in enumerate((57, 60, 64)):
            x = saw(midi_hz(note), n, 600.0, phase0=i) * env
            pan = (-0.4, 0.0, 0.4)[i]
            level = 0.05 if sec.name == "outro" else 0.012
            tmp = Mix(n)
            tmp.add(x, 0, level, pan, delay_ms=2.0)
            out[a : a + n] += tmp.buf

    peak = float(np.max(np.abs(out)))
    out *= 10.0 ** (PEAK_DBFS / 20.0) / peak
    return out, sections


# ----------------------------------------------------------------------------------------
# Encoding
# ----------------------------------------------------------------------------------------


def encode_opus(audio: np.ndarray, path: Path, bitrate: int = BITRATE) -> None:
    """Encode stereo float samples to Ogg/Opus with PyAV (``libopus``).

    Parameters
    ----------
    audio : numpy.ndarray
        Shape ``(n, 2)``, values within ±1, at 48 kHz.
    path : pathlib.Path
        Output file; its folder is created if needed.
    bitrate : int
        Target bit rate in bit/s.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    frame_size = 960  # 20 ms, libopus's default
    n = len(audio)
    padded = np.zeros((-(-n // frame_size) * frame_size, 2), dtype=np.float32)
    padded[:n] = audio
    with av.open(str(path), "w", format="ogg", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libopus", rate=SR, layout="stereo")
        stream.bit_rate = bitrate
        # constrained VBR keeps the average near ``bitrate`` (free VBR gives ~160 kbit/s here)
        stream.codec_context.options = {"vbr": "constrained"}
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        for start in range(0, len(padded), frame_size):
            chunk = np.ascontiguousarray(padded[start : start + frame_size].reshape(1, -1))
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="stereo")
            frame.sample_rate = SR
            frame.pts = start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: synthesise and encode the demo track."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .ogg file")
    parser.add_argument("--seconds", type=float, default=40.0, help="approximate length")
    args = parser.parse_args(argv)
    if not 12.0 <= args.seconds <= 600.0:
        parser.error("--seconds must be between 12 and 600")
    audio, sections = render(args.seconds)
    encode_opus(audio, args.out)
    for sec in sections:
        print(f"{sec.name:<10} {sec.start:6.2f} - {sec.end:6.2f} s")
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB, {len(audio) / SR:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
