"""Clicks played by another process through a real JACK server, heard as from a sound card.

A second process (a JACK client) plays a 120 BPM click train into the input
port that PortAudio opened for the program; the program reads it through
sounddevice like any sound card and the analysis must find every click
(within 50 ms) and the tempo (within 2 %).
"""

from __future__ import annotations

import time

import jackutil
import numpy as np
import pytest

from ganterp.live.analysis.analyzer import Analyzer
from ganterp.live.analysis.features import Onset
from ganterp.live.audio.mic import MicSource
from ganterp.live.core.clock import MonotonicClock
from ganterp.live.settings.schema import AnalysisSettings, InflectionSettings

pytestmark = [pytest.mark.jack, pytest.mark.slow]


def test_clicks_through_jack_are_found_with_their_tempo(jack_server):
    sr = jack_server.rate
    bpm = 120.0
    period = jackutil.click_train(sr, bpm=bpm, amplitude=0.5)
    source = MicSource("system", clock=MonotonicClock(), channels=[1], blocksize=256)
    source.start()
    try:
        with jackutil.play_through_jack(period, sr, jackutil.PORTAUDIO_IN, loop=True):
            reader = source.ring.reader()
            analyzer = Analyzer(source.sample_rate, AnalysisSettings(), InflectionSettings())
            received, onsets, features = [], [], []
            start = reader.position
            deadline = time.monotonic() + 12.0
            while time.monotonic() < deadline:
                time.sleep(0.01)
                first, block = reader.read()
                received.append(block[:, 0].copy())
                f, events = analyzer.process(block, first)
                features.extend(f)
                onsets.extend(e for e in events if isinstance(e, Onset))
    finally:
        source.stop()
    signal = np.concatenate(received)
    # Where the clicks really are in what arrived (exact zeros between bursts).
    truth = (jackutil.burst_onsets(signal, quiet=1000) + start) / sr
    assert len(truth) >= 20, "the clicks did not arrive"
    found = np.array([o.time_s for o in onsets])
    # Every click found once, within 50 ms; nothing else found.
    for t in truth[:-1]:  # the last may still be in aubio's decision delay
        near = np.abs(found - t)
        assert near.min() <= 0.050, f"click at {t:.3f} s not found (nearest {near.min():.3f} s)"
        assert (near <= 0.25).sum() == 1, f"click at {t:.3f} s found more than once"
    assert len(found) <= len(truth) + 1
    # Tempo within 2 % once the tracker has settled.
    assert features[-1].bpm == pytest.approx(bpm, rel=0.02)
