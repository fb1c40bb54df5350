"""The bench's tables: its results as text, every figure formatted from the saved JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table


def summary_table(results: dict[str, Any]) -> Table:
    """The main table: one row per measure.

    Parameters
    ----------
    results : dict
        Every part's results (as saved in the JSON).

    Returns
    -------
    rich.table.Table
        Columns "measure", "value" and "target / note" (the rows of :func:`summary_rows`).
    """
    from rich.table import Table

    table = Table(title="ganterp bench", show_lines=False)
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target / note")
    for row in summary_rows(results):
        table.add_row(*row)
    return table


def inflections_table(inflections: dict[str, Any]) -> Table:
    """The inflection trade-off's table: one row per detector and look-ahead.

    Parameters
    ----------
    inflections : dict
        The inflections part's results (``tolerance_s``, seconds, and ``rows``).

    Returns
    -------
    rich.table.Table
        Counts pooled over the tracks, precision, recall, F1 and the median
        decision delay (seconds), and F1 against the original's scan at its own
        look-ahead on the same running curve.
    """
    from rich.table import Table

    t = Table(
        title="inflections: causal detector vs the original"
        f" (match within ±{inflections['tolerance_s']} s)"
    )
    for col in (
        "detector",
        "look-ahead s",
        "original",
        "found",
        "matched",
        "precision",
        "recall",
        "F1",
        "decision delay s (median)",
        f"F1 vs {inflections['rows'][0]['lookahead_s']:.2f} s, same curve",
    ):
        t.add_column(col, justify="right")
    for r in inflections["rows"]:
        t.add_row(
            r["detector"],
            f"{r['lookahead_s']:.2f}",
            str(r["original"]),
            str(r["found"]),
            str(r["matched"]),
            f"{r['precision']:.2f}",
            f"{r['recall']:.2f}",
            f"{r['f1']:.2f}",
            f"{r['decision_delay_s']['median']:.2f}",
            f"{r['same_curve']['f1']:.2f}",
        )
    return t


def music_table(music: dict[str, Any]) -> Table:
    """The musicality part's table: each measure for ganterp and the peer, per recording.

    Parameters
    ----------
    music : dict
        The musicality part's results (as saved in the JSON).

    Returns
    -------
    rich.table.Table
        One row per recording and one of medians; each cell "ganterp / peer".
    """
    from rich.table import Table

    t = Table(
        title=f"musicality: ganterp / deep-music-visualizer mapping ({music['generator']},"
        f" {music['resolution']} px, {music['fps']:g} fps)"
    )
    for col in ("recording", "follow ρ", "section", "beat", "calm", "still s", "change"):
        t.add_column(col, justify="right")

    def pair(row: dict[str, Any], key: str, fmt: str = "{:.2f}") -> str:
        return " / ".join(
            "–" if v != v else fmt.format(v) for v in (row["ganterp"][key], row["dmv"][key])
        )

    for row in [*music["recordings"], {"name": "median", **music["median"]}]:
        name = row["name"] + (" (beat)" if row.get("beat_driven") else "")
        t.add_row(
            name,
            pair(row, "follow_rho"),
            pair(row, "section_response"),
            pair(row, "beat_response"),
            pair(row, "calm_in_silence"),
            pair(row, "longest_still_s", "{:.1f}"),
            pair(row, "mean_change", "{:.1f}"),
        )
    return t


def _without_recording(rows: list[dict[str, Any]], row: dict[str, Any]) -> dict[str, Any] | None:
    """The row of the same screen, renderer and HUD as ``row``, without a recording."""
    for other in rows:
        if (other["screen"], other["renderer"], other["hud"]) == (
            row["screen"],
            row["renderer"],
            row["hud"],
        ) and not other["record"]:
            return other
    return None


def screens_table(screens: dict[str, Any]) -> Table:
    """The full-screen shows' table: one row per screen size, renderer, HUD and recording.

    Parameters
    ----------
    screens : dict
        The screens part's results (:func:`ganterp.live.bench.screens.bench_screens`).

    Returns
    -------
    rich.table.Table
        Displayed fps, frame interval (median/p95), keyframes/s, CPU ms per displayed
        frame (the display's, and the X server's) and, with a recording, the displayed
        fps as a share of the same show's without it and the frames it repeated.
    """
    from rich.table import Table

    rows = screens["rows"]
    drawn_by = sorted({r["drawn_by"] for r in rows if r["renderer"] == "gpu"})
    table = Table(
        title=f"full screen, {screens.get('seconds', 0):g} s each",
        caption=f"GPU: OpenGL through {', '.join(drawn_by) or '-'}; CPU: pygame surfaces",
    )
    for name in ("screen", "draw", "HUD", "rec"):
        table.add_column(name)
    for name in ("fps", "p50/p95 ms", "kf/s", "CPU ms", "X ms", "vs no rec"):
        table.add_column(name, justify="right")
    for r in rows:
        fi = r["frame_interval_ms"]
        versus = ""
        if r["record"]:
            base = _without_recording(rows, r)
            if base and base["display_fps"] > 0:
                versus = f"{r['display_fps'] / base['display_fps'] * 100:.0f} %"
            versus += f", {r.get('repeated', 0)} rep"
        table.add_row(
            r["screen"],
            r["renderer"].upper(),
            "on" if r["hud"] else "off",
            r["record"].replace("1920x1080", "1080p") or "-",
            f"{r['display_fps']:.1f}",
            f"{fi['median']:.1f}/{fi['p95']:.1f}",
            f"{r['keyframes_per_s']:.1f}",
            f"{r['display_cpu_ms_per_frame']:.1f}",
            f"{r['x_server_cpu_ms_per_frame']:.1f}",
            versus,
        )
    return table


def summary_rows(results: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The main table's rows.

    Parameters
    ----------
    results : dict
        Every part's results (as saved in the JSON); parts that did not run are absent.

    Returns
    -------
    list of (measure, value, target or note)
        Text cells, in the order the parts are shown.
    """
    rows: list[tuple[str, str, str]] = []
    a = results.get("analysis")
    if a:
        for key in ("show_block", "large_block"):
            r = a[key]
            rows.append(
                (
                    f"analysis, {r['block_samples']}-sample blocks",
                    f"{r['realtime_factor']:.0f}x real time, {r['us_per_hop']:.1f} µs/hop",
                    f"≥ 100x at {a['sample_rate']} Hz",
                )
            )
    for g in results.get("generator", []):
        rows.append(
            (
                f"{g['generator']} {g['resolution']}px batch 1",
                f"{g['frames_per_s']:.1f} frames/s, {g['ms_per_frame']['median']:.1f} ms (p95 {g['ms_per_frame']['p95']:.1f})",
                f"{g['threads']} thread(s); ≥ 30/s at 256 px"
                if g["resolution"] == 256
                else f"{g['threads']} thread(s)",
            )
        )
    plain_fps = None
    for b in results.get("biggan", []):
        where = f"{b['device']}, {b['threads']} thread(s), {b['weights']} weights"
        p = b["plain_eager"]
        plain_fps = p["frames_per_s"]
        rows.append(
            (
                f"{b['generator']} plain eager fp32 batch 1",
                f"{p['frames_per_s']:.1f} frames/s, {p['ms_per_frame']['median']:.1f} ms"
                f" (p95 {p['ms_per_frame']['p95']:.1f})",
                f"the package's model as it comes; {where}",
            )
        )
        for r in b["rows"]:
            psnr = "reference" if r["psnr_db"] is None else f"PSNR {r['psnr_db']:.1f} dB"
            gpu = f", GPU {r['gpu_peak_mb']:.0f} MiB" if r["gpu_peak_mb"] is not None else ""
            rows.append(
                (
                    f"{b['generator']} {r['backend']} {r['precision']} batch {r['batch']}",
                    f"{r['frames_per_s']:.1f} frames/s, {r['ms_per_frame']['median']:.1f} ms"
                    f" (p95 {r['ms_per_frame']['p95']:.1f})",
                    f"{psnr}; first call {r['first_call_ms']:.0f} ms, build {r['build_s']:.1f} s,"
                    f" RSS {r['peak_rss_mb']:.0f} MiB{gpu}"
                    + (
                        f"; asked {r['asked']}"
                        if r["asked"] != f"{r['backend']} {r['precision']}"
                        else ""
                    ),
                )
            )
    s = results.get("show")
    if s:
        rows.append(
            (
                "show: keyframes/s (analysis running)",
                f"{s['keyframes_per_s']:.1f}",
                f"{s['generator']}; ≥ 30 for cppn 256 px",
            )
        )
        if plain_fps and not s["generator"].startswith("cppn"):
            rows.append(
                (
                    "show keyframes/s ÷ plain eager fp32 batch 1",
                    f"{s['keyframes_per_s'] / plain_fps:.2f}x",
                    "same run; ≥ 1.5x on a CPU",
                )
            )
        rows.append(
            (
                "show: display fps",
                f"{s['display_fps']:.1f}",
                f"{s['display_size']}, {s['display']}; ≥ 60",
            )
        )
        fi = s["frame_interval_ms"]
        rows.append(
            (
                "show: frame interval",
                f"median {fi['median']:.1f} ms, p95 {fi['p95']:.1f} ms",
                f"{s['late_frames']} frames later than 1.5 periods",
            )
        )
        rows.append(
            ("show: audio overflows", str(s["audio_overflows"]), f"{s['seconds']:.0f} s show; 0")
        )
        rows.append(("show: analysis ring drops", str(s["analysis_ring_drops"]), "0"))
        rows.append(("show: peak RSS", f"{s['peak_rss_mb']:.0f} MiB", "≤ 1536 MiB"))
    cap = results.get("display_capacity")
    if cap:
        rows.append(
            (
                "display capacity (unpaced)",
                f"{cap['frames_per_s']:.0f} frames/s",
                f"{cap['display_size']}, {cap['display']}, generator and analysis running",
            )
        )
    for r in results.get("screens", {}).get("rows", []):
        if r["renderer"] != "gpu" or not r["hud"]:
            continue
        target = {"1920x1080": "≥ 60 fps, p95 ≤ 20 ms", "3840x2160": "≥ 30 fps"}.get(
            r["screen"], ""
        )
        note = f"{r['drawn_by']}; keyframes {r['keyframes_per_s']:.1f}/s"
        if r["record"]:
            base = _without_recording(results["screens"]["rows"], r)
            ratio = r["display_fps"] / base["display_fps"] if base and base["display_fps"] else 0
            note += f"; {ratio * 100:.0f} % of the fps without it (≥ 95 %)"
            note += f", {r.get('repeated', 0)} frames repeated (0)"
            target = ""
        fi = r["frame_interval_ms"]
        rows.append(
            (
                f"full screen {r['screen']}, HUD, GPU path"
                + (f", recording {r['record']}" if r["record"] else ""),
                f"{r['display_fps']:.1f} fps, p95 {fi['p95']:.1f} ms",
                note + (f"; {target}" if target else ""),
            )
        )
    lat = results.get("latency")
    if lat:
        m = lat["latency_ms"]
        rows.append(
            (
                "onset → screen latency",
                f"median {m['median']:.0f} ms, p95 {m['p95']:.0f} ms",
                f"{lat['detected']}/{lat['clicks']} clicks; ≤ 100 ms median",
            )
        )
    osc = results.get("osc")
    if osc:
        lat, flood = osc["latency"], osc["flood"]
        m = lat["latency_ms"]
        rows.append(
            (
                f"OSC category jump → first frame showing it ({lat['generator']})",
                f"median {m['median']:.0f} ms, p95 {m['p95']:.0f} ms",
                f"{lat['shown']}/{lat['commands']} shown, {lat['keyframes_dropped']} stale"
                f" keyframes dropped; ≤ one frame + one keyframe ({lat['target_ms']:.0f} ms)",
            )
        )
        rows.append(
            (
                f"OSC flood, {flood['packets']} bad packets",
                f"{flood['flood_fps']:.1f} fps ({flood['fps_ratio'] * 100:.0f} % of quiet)",
                f"{flood['rejected']} rejected, {flood['errors']} errors, RSS"
                f" {flood['rss_before_mb']:.0f} → {flood['rss_after_mb']:.0f} MiB; ≥ 90 %",
            )
        )
    render = results.get("render")
    if render:
        for r in render["rows"]:
            rows.append(
                (
                    f"render {r['generator']}, {render['track_s']:g} s track",
                    f"{r['realtime_factor']:.2f}x real time",
                    f"{r['fps']:g} fps, {r['generator_calls']} calls"
                    f" ({r['calls_per_audio_s']:.2f}/audio s)"
                    + ("; ≥ 1x for cppn 256 px" if r["generator_name"] == "cppn" else ""),
                )
            )
            if "original" in r:
                o = r["original"]
                rows.append(
                    (
                        f"render {r['generator_name']} generator time ÷ the original's cadence",
                        f"{r['generator_time_ratio']:.3f}",
                        f"{r['generate_s']:.0f} s vs {o['generator_s']:.0f} s"
                        f" ({o['frames_per_audio_s']:.1f} frames/audio s at"
                        f" {o['ms_per_frame']['median']:.0f} ms, timed on {o['timed_frames']});"
                        " ≤ 0.1",
                    )
                )
        for r in render.get("sizes", []):
            target = {"1280x720": "; ≥ 1.5x", "1920x1080": "; ≥ 1x"}.get(r["size"], "")
            rows.append(
                (
                    f"render cppn 256 px into {r['size']}, {r['preset']}",
                    f"{r['realtime_factor']:.2f}x real time",
                    f"{r['duration_s']:.0f} s track, generator {r['generate_s']:.1f} s of"
                    f" {r['wall_s']:.1f} s{target}",
                )
            )
        long = render["long"]
        rss = long["peak_rss_mb"]
        rows.append(
            (
                f"render cppn, {long['duration_s']:.0f} s track: peak RSS",
                f"{rss:.0f} MiB" if rss else "n/a",
                f"{long['realtime_factor']:.2f}x real time; ≤ 2048 MiB",
            )
        )
    if "peak_rss_mb" in results:
        rows.append(("bench process peak RSS", f"{results['peak_rss_mb']:.0f} MiB", ""))
    return rows


def ndi_table(ndi: dict[str, Any]) -> Table:
    """The NDI part's table: one row per size and pixel format, the show without NDI first.

    Parameters
    ----------
    ndi : dict
        The NDI part's results (:func:`ganterp.live.bench.ndi.bench_ndi`).

    Returns
    -------
    rich.table.Table
        Displayed fps and its share of the show's without NDI, the sink thread's CPU
        ms per frame (median) and the whole process's extra CPU ms per frame sent,
        frames received of those sent while listening, and shown-to-received latency
        (median/p95, ms).
    """
    from rich.table import Table

    table = Table(
        title=f"NDI out, {ndi.get('seconds', 0):g} s each, receiver in another process",
        caption="CPU ms: the sink's thread (scale and convert) / the process's extra time"
        " over the show without NDI (NDI's compression included), per frame sent",
    )
    for name in ("size", "format"):
        table.add_column(name)
    for name in ("fps", "vs none", "CPU ms", "received", "latency ms"):
        table.add_column(name, justify="right")
    for r in ndi.get("rows", []):
        sent = r.get("sent_while_listening", 0)
        latency = r.get("latency_ms", {})
        table.add_row(
            f"{r['size']} @ {r['fps_asked']:g}",
            r["pixel_format"],
            f"{r['display_fps']:.1f}",
            f"{r['fps_ratio'] * 100:.0f} %" if "fps_ratio" in r else "-",
            f"{r['sink_cpu_ms']['median']:.1f} / {r['extra_cpu_ms_per_sent_frame']:.1f}"
            if "sink_cpu_ms" in r
            else "-",
            f"{r['received']}/{sent}" if "received" in r else r.get("receiver_error", ["-"])[0],
            f"{latency['median']:.1f}/{latency['p95']:.1f}" if latency else "-",
        )
    return table
