"""MIDI clock in: tempo and beats from 24 pulses a beat, also through a real JACK MIDI port."""

from __future__ import annotations

import threading
import time

import mido
import numpy as np
import pytest

from ganterp.live.analysis.features import AudioFeatures, Beat
from ganterp.live.control.midi import MidiIn, midi_backend
from ganterp.live.control.midi_clock import PPQN, MidiClock, MidiClockInput

BPM = 128.0
PULSE = 60.0 / BPM / PPQN


def _pulses(clock: MidiClock, n: int, t0: float = 10.0, jitter_s: float = 0.001, seed: int = 0):
    rng = np.random.default_rng(seed)
    for k in range(n):
        clock.pulse(t0 + k * PULSE + rng.uniform(-jitter_s, jitter_s))


def _hops(t0: float, t1: float, hop_s: float = 0.01) -> list[AudioFeatures]:
    times = np.arange(t0, t1, hop_s)
    return [
        AudioFeatures(
            time_s=float(t),
            frame=k * 480,
            rms_db=-20.0,
            level=0.5,
            bands_db=(-20.0, -20.0, -20.0),
            bands=(0.5, 0.5, 0.5),
            change=0.0,
            curve=0.0,
            onset=False,
            beat=False,
            bpm=90.0,
            pitch_hz=0.0,
            pitch_confidence=0.0,
        )
        for k, t in enumerate(times)
    ]


def test_the_tempo_is_within_half_a_percent_despite_jitter():
    clock = MidiClock()
    clock.start(9.99)
    _pulses(clock, 24 * 8, jitter_s=0.002)
    assert clock.bpm == pytest.approx(BPM, rel=0.005)


def test_beats_fall_on_every_24th_pulse_after_start():
    clock = MidiClock()
    clock.start(9.99)
    _pulses(clock, 24 * 4 + 5)
    anchor, period = clock.grid()
    assert period == pytest.approx(60 / BPM, rel=0.005)
    # The newest beat is pulse 96, at 10 + 96 pulses.
    assert anchor == pytest.approx(10.0 + 96 * PULSE, abs=0.002)


def test_the_song_position_sets_the_phase():
    clock = MidiClock()
    clock.start(9.99)
    clock.song_position(2)  # two sixteenths: 12 pulses in, half a beat
    _pulses(clock, 30)
    anchor, _ = clock.grid()
    assert anchor == pytest.approx(10.0 + 12 * PULSE, abs=0.002)  # pulse 12 + 12 = beat 1


def test_its_beats_replace_the_trackers_and_stop_with_it():
    clock = MidiClock()
    clock.start(9.99)
    _pulses(clock, 24 * 4)
    hops = _hops(10.0 + 70 * PULSE, 10.0 + 95 * PULSE + 0.3)  # beats at pulses 72 and 96
    tracker = [Beat(time_s=hops[3].time_s, frame=hops[3].frame, bpm=90.0, index=0)]
    features, events = clock.filter(hops, tracker)
    beats = [e for e in events if isinstance(e, Beat)]
    assert tracker[0] not in beats and len(beats) == 2
    assert beats[0].time_s == pytest.approx(10.0 + 72 * PULSE, abs=0.002)
    assert np.diff([b.time_s for b in beats])[0] == pytest.approx(60 / BPM, rel=0.005)
    assert all(f.bpm == pytest.approx(BPM, rel=0.005) for f in features)
    clock.stop()
    assert clock.filter(hops, tracker) is None  # back to the tracker


def test_a_clock_gone_silent_gives_the_beat_back():
    clock = MidiClock(timeout_s=0.5)
    clock.start(9.99)
    _pulses(clock, 48)
    last = 10.0 + 47 * PULSE
    assert clock.grid(last + 0.1) is not None
    assert clock.grid(last + 0.6) is None


def test_a_clock_without_start_is_followed_once_steady():
    clock = MidiClock()
    _pulses(clock, 10)
    assert clock.grid() is None
    _pulses(clock, 60, t0=10.0 + 10 * PULSE)
    assert clock.bpm == pytest.approx(BPM, rel=0.005)


def test_the_input_maps_messages_and_ignores_the_rest():
    clock = MidiClock()
    now = iter(np.arange(10.0, 20.0, PULSE))
    feed = MidiClockInput(clock, lambda: float(next(now)))
    feed.handle(mido.Message("start"))
    for _ in range(60):
        feed.handle(mido.Message("clock"))
    feed.handle(mido.Message("note_on", note=36))
    assert clock.bpm == pytest.approx(BPM, rel=0.005)
    feed.handle(mido.Message("stop"))
    assert clock.bpm == 0.0


@pytest.mark.jack
def test_clock_through_a_real_jack_midi_port_gives_tempo_and_beats(jack_server):
    try:
        backend, _ = midi_backend("jack")
        out = backend.open_output("ganterp-test-clock", virtual=True)
    except Exception as exc:
        pytest.skip(f"no JACK MIDI here: {exc}")
    clock = MidiClock()
    midi_in = MidiIn("ganterp-test-clock", MidiClockInput(clock, time.monotonic), api="jack")
    time.sleep(0.3)
    midi_in.start()
    beats_sent: list[float] = []

    def play() -> None:  # a drum machine at 128 BPM: start, then 24 pulses a beat
        out.send(mido.Message("start"))
        t0 = time.monotonic() + 0.01
        for k in range(24 * 16):
            while time.monotonic() < t0 + k * PULSE:
                time.sleep(0.0005)
            if k % PPQN == 0:
                beats_sent.append(time.monotonic())
            out.send(mido.Message("clock"))

    player = threading.Thread(target=play)
    try:
        time.sleep(0.3)
        player.start()
        grids = []
        while player.is_alive():
            time.sleep(0.05)
            grid = clock.grid()
            if grid is not None:
                grids.append(grid)
        player.join()
    finally:
        midi_in.stop()
        out.close()
    assert abs(clock.bpm - BPM) <= 0.005 * BPM
    # Each grid's newest beat against the beat the drum machine played nearest to it.
    sent = np.array(beats_sent)
    errors = [np.abs(sent - anchor).min() for anchor, _ in grids[len(grids) // 4 :]]
    print(f"MIDI clock: {clock.bpm:.2f} BPM, beat error median {np.median(errors) * 1000:.2f} ms")
    assert np.median(errors) < 0.010, np.median(errors)
