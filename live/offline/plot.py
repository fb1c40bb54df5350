"""A picture of a file's analysis that a person can read."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ganterp.live.offline.file_analysis import FileAnalysis


def plot_analysis(result: FileAnalysis, path: Path, *, title: str = "") -> None:
    """Draw the curves, both analyses' inflections, beats, onsets and the categories.

    Parameters
    ----------
    result : FileAnalysis
        What :func:`ganterp.live.offline.file_analysis.analyze_file` found.
    path : Path
        Where to write the PNG.
    title : str
        Shown above the plot (e.g. the file name).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, events, cats) = plt.subplots(
        3, 1, figsize=(14, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1, 1]}
    )
    end = max(result.duration_s, 1e-3)
    if result.seed_change.size:
        t = result.seed_times_s[: result.seed_change.size]
        top.plot(t, result.seed_change, color="0.75", lw=0.6, label="spectral change (normalised)")
    if result.seed_curve.size:
        top.plot(
            result.seed_times_s,
            result.seed_curve,
            color="tab:orange",
            lw=1.6,
            label="smoothed (256 columns, the original's curve)",
        )
    if result.live_curve.size:
        top.plot(
            result.live_times_s,
            result.live_curve,
            color="tab:blue",
            lw=1.0,
            alpha=0.8,
            label="causal curve (the show's)",
        )
    top.axhline(
        result.absolute_threshold,
        color="tab:red",
        ls="--",
        lw=1,
        label=f"absolute threshold {result.absolute_threshold:g} (minima below it)",
    )
    for i, t_s in enumerate(result.seed_inflections_s):
        top.axvline(
            t_s,
            color="tab:orange",
            ls="-",
            lw=1.5,
            alpha=0.9,
            label="seed inflection" if i == 0 else None,
        )
    for i, t_s in enumerate(result.live_inflections_s):
        top.axvline(
            t_s, color="tab:blue", ls=":", lw=1.5, label="live inflection" if i == 0 else None
        )
    top.set_ylabel("change")
    top.set_ylim(0, max(1.0, float(np.max(result.seed_curve, initial=0.0))) * 1.05)
    top.legend(loc="upper right", fontsize=8, ncol=2)
    top.set_title(
        f"{title}  ·  {len(result.seed_inflections_s)} seed / {len(result.live_inflections_s)}"
        f" live inflections  ·  {result.bpm:.1f} BPM  ·  θ = {result.seed_threshold:g}"
    )

    events.eventplot(
        [result.onsets_s, result.beats_s],
        lineoffsets=[1, 0],
        linelengths=0.8,
        colors=["tab:green", "tab:purple"],
    )
    events.set_yticks([1, 0], ["onsets", "beats"])
    events.set_ylim(-0.6, 1.6)

    colours = plt.get_cmap("tab20")
    for i, seg in enumerate(result.segments):
        cats.axvspan(seg.start_s, seg.end_s, color=colours(i % 20), alpha=0.6)
        cats.text(
            (seg.start_s + seg.end_s) / 2,
            0.5,
            f"{seg.name} ({seg.category})",
            ha="center",
            va="center",
            fontsize=8,
            clip_on=True,
        )
    cats.set_yticks([])
    cats.set_ylabel(f"categories\n({result.analysis})")
    cats.set_xlabel("time (s)")
    cats.set_xlim(0, end)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
