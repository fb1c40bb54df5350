"""The analysis in ``ganterp bench``: its speed, and the causal inflection detectors' trade-off.

The speed is timed over the demo track at the show's block size and a large
one. The trade-off compares each causal detector, at several look-aheads, with
the original program's offline inflections on the same files, and with the
original's scan run causally at its own look-ahead on the same running curve
(what the look-ahead alone costs, apart from the running normaliser).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from ganterp.live.analysis.analyzer import Analyzer
from ganterp.live.analysis.features import Inflection
from ganterp.live.analysis.inflection import seed_curve, seed_inflections
from ganterp.live.audio.channels import to_mono
from ganterp.live.bench.measure import stats
from ganterp.live.settings.schema import AnalysisSettings, InflectionSettings

#: Look-aheads compared against the original (seconds). The first is the original's: the
#: seed detector there is the reference row; both detectors run at the others.
LOOKAHEADS_S = (0.5805, 0.4, 0.3, 0.2, 0.1)
#: A causal inflection matches an original one when this close, seconds.
MATCH_TOLERANCE_S = 0.25


def bench_analysis(audio: np.ndarray, sample_rate: int) -> dict[str, Any]:
    """Time the analysis over a signal, at the show's block size and at a large one.

    Parameters
    ----------
    audio : np.ndarray, shape (n,), float32
        Mono signal in [-1, 1].
    sample_rate : int
        Its rate, Hz.

    Returns
    -------
    dict
        ``sample_rate`` (Hz), ``audio_s`` (seconds) and, for ``show_block`` and
        ``large_block``: ``block_samples``, ``us_per_hop`` (µs of wall time per
        analysis hop), ``realtime_factor`` and ``realtime_factor_cpu`` (audio seconds
        per second of wall or CPU time) and ``us_per_call`` (statistics, µs).
    """
    out: dict[str, Any] = {"sample_rate": sample_rate, "audio_s": audio.shape[0] / sample_rate}
    settings = AnalysisSettings()
    for label, block in (
        ("show_block", settings.hops_per_wake * settings.hop),
        ("large_block", 4096),
    ):
        analyzer = Analyzer(sample_rate, settings, InflectionSettings())
        per_call: list[float] = []
        hops = 0
        t_start = time.process_time()
        for start in range(0, audio.shape[0], block):
            t0 = time.perf_counter()
            features, _ = analyzer.process(audio[start : start + block], start)
            per_call.append(time.perf_counter() - t0)
            hops += len(features)
        cpu = time.process_time() - t_start
        wall = sum(per_call)
        out[label] = {
            "block_samples": block,
            "us_per_hop": 1e6 * wall / max(hops, 1),
            "realtime_factor": out["audio_s"] / wall,
            "realtime_factor_cpu": out["audio_s"] / cpu if cpu > 0 else float("inf"),
            "us_per_call": stats([1e6 * t for t in per_call]),
        }
    return out


def match_count(reference: Sequence[float], found: Sequence[float], tolerance: float) -> int:
    """Count greedy one-to-one matches of found points to reference points.

    Each reference point, in order, takes the nearest found point not yet taken
    that lies within ``tolerance`` of it.

    Parameters
    ----------
    reference, found : sequence of float
        Times of the points, in one unit (seconds in the bench; any unit works).
    tolerance : float
        Largest distance of a match, in the same unit.

    Returns
    -------
    int
        Number of matched pairs, at most ``min(len(reference), len(found))``.
    """
    used: set[int] = set()
    hits = 0
    for r in reference:
        best = None
        for j, f in enumerate(found):
            if (
                j not in used
                and abs(f - r) <= tolerance
                and (best is None or abs(f - r) < abs(found[best] - r))
            ):
                best = j
        if best is not None:
            used.add(best)
            hits += 1
    return hits


def bench_inflections(
    tracks: list[tuple[str, np.ndarray, int]], base: InflectionSettings | None = None
) -> dict[str, Any]:
    """Agreement of the causal detectors with the original, against their look-ahead.

    The reference is the original program on each whole file (:func:`seed_curve`
    and :func:`seed_inflections` at the settings' thresholds). Each detector runs
    through the real :class:`Analyzer`, fed 4096-sample blocks: ``"seed"`` at every
    look-ahead of :data:`LOOKAHEADS_S` (the first, the original's, is the
    reference row), ``"predictive"`` at the shorter ones.

    The offline scan divides by the whole file's maximum, which no causal
    detector knows before the loudest moment has been heard (the same opening
    with a louder ending gives other offline inflections in the opening). So
    each row is also compared with the reference row's own inflections: the
    original's exact decisions on the same causal curve, at the original's
    look-ahead. That agreement is what a shorter look-ahead costs.

    Parameters
    ----------
    tracks : list of (name, audio, sample_rate)
        Audio of shape (n,) or (n, channels), in [-1, 1]; rate in Hz.
    base : InflectionSettings, optional
        Settings of the reference and the detectors (their ``detector`` and
        ``lookahead_s`` are replaced); the defaults when omitted.

    Returns
    -------
    dict
        ``tracks`` (names), ``tolerance_s`` and ``rows``: per detector and look-ahead
        (seconds) the counts pooled over the tracks (``original``, ``found``,
        ``matched``), ``precision``, ``recall``, ``f1``, ``decision_delay_s`` (decision
        time minus the matched original point's time, seconds), ``same_curve``
        (``matched``, ``precision``, ``recall`` and ``f1`` against the reference
        row's inflections, pooled) and ``per_track``.
    """
    base = InflectionSettings() if base is None else base

    def original_times(mono: np.ndarray, sr: int) -> list[float]:
        # The original program on this file: its columns, the same thresholds.
        _, curve = seed_curve(mono, sample_rate=sr, nfft=base.nfft, hop=base.spectral_hop)
        columns = seed_inflections(
            curve,
            threshold=base.threshold,
            absolute_threshold=base.absolute_threshold,
            mode=base.mode,
        )[1:-1]
        return [float(c) * base.spectral_hop / sr for c in columns]

    def causal(
        mono: np.ndarray, sr: int, settings: InflectionSettings
    ) -> list[tuple[float, float]]:
        # (time, decision time) in seconds of each inflection the analyzer reports.
        analyzer = Analyzer(sr, AnalysisSettings(), settings)
        found: list[Inflection] = []
        for start in range(0, mono.shape[0], 4096):
            _, events = analyzer.process(mono[start : start + 4096], start)
            found.extend(e for e in events if isinstance(e, Inflection))
        cps = analyzer.curve_columns_per_second
        return [(f.time_s, f.decided_index / cps) for f in found]

    def rates(original: int, found: int, matched: int) -> dict[str, float]:
        precision = matched / found if found else float("nan")
        recall = matched / original if original else float("nan")
        f1 = 2 * matched / (original + found) if original + found else float("nan")
        return {"precision": precision, "recall": recall, "f1": f1}

    monos = [(name, to_mono(audio), sr) for name, audio, sr in tracks]
    references = [original_times(mono, sr) for _, mono, sr in monos]
    runs = [("seed", LOOKAHEADS_S[0])]
    runs += [(d, la) for la in LOOKAHEADS_S[1:] for d in ("seed", "predictive")]
    rows = []
    first_found: list[list[float]] = []  # the reference row's inflections, per track
    for detector, lookahead in runs:
        settings = replace(base, detector=detector, lookahead_s=lookahead)
        per_track: list[dict[str, Any]] = []
        delays: list[float] = []
        founds: list[list[float]] = []
        for (name, mono, sr), ref in zip(monos, references, strict=True):
            found = causal(mono, sr, settings)
            founds.append([t for t, _ in found])
            matched = match_count(ref, founds[-1], MATCH_TOLERANCE_S)
            per_track.append(
                {"track": name, "original": len(ref), "found": len(found), "matched": matched}
            )
            for t, decided in found:
                nearest = min(ref, key=lambda r: abs(r - t)) if ref else None
                if nearest is not None and abs(nearest - t) <= MATCH_TOLERANCE_S:
                    delays.append(decided - nearest)
        if not rows:
            first_found = founds
        counts = {k: sum(p[k] for p in per_track) for k in ("original", "found", "matched")}
        same = sum(
            match_count(r, f, MATCH_TOLERANCE_S) for r, f in zip(first_found, founds, strict=True)
        )
        rows.append(
            {
                "detector": detector,
                "lookahead_s": lookahead,
                **counts,
                **rates(counts["original"], counts["found"], counts["matched"]),
                "decision_delay_s": stats(delays),
                "same_curve": {
                    "matched": same,
                    **rates(sum(map(len, first_found)), counts["found"], same),
                },
                "per_track": [
                    {**p, **rates(p["original"], p["found"], p["matched"])} for p in per_track
                ],
            }
        )
    return {
        "tracks": [name for name, _, _ in tracks],
        "tolerance_s": MATCH_TOLERANCE_S,
        "rows": rows,
    }
