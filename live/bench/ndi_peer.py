"""An NDI receiver in a process of its own, for measuring what the show's NDI source sends.

Run as ``python -m ganterp.live.bench.ndi_peer --source NAME --seconds S --out DIR``.
It finds the source, prints ``connected`` once the first frame is in, then for
``S`` seconds polls NDI's frame synchroniser every 2 ms and keeps, for each new
frame, its NDI time stamp (when the sender handed it over), the wall-clock time
it arrived and its size; every ``--keep-every``-th frame's pixels are kept too,
as RGB. It writes ``DIR/received.json`` and ``DIR/frames.npz`` and exits 0, or
3 when the source does not appear.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

#: How long the receiver waits for the source and its first frame, seconds.
FIND_S = 15.0

#: How often the frame synchroniser is polled, seconds.
POLL_S = 0.002


def _find(finder: Any, name: str, timeout_s: float) -> Any:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        finder.wait_for_sources(0.25)
        for source in finder:
            if source.name.endswith(f"({name})") or source.stream_name == name:
                return source
    return None


def receive(name: str, seconds: float, keep_every: int) -> dict[str, Any] | None:
    """Receive from source ``name`` for ``seconds``; None when it is not found.

    Returns
    -------
    dict or None
        ``frames``: a list of ``[ndi_time_s, arrived_s, width, height]`` (wall-clock
        seconds) per new frame; ``kept``: the indices of the frames kept; ``pictures``:
        their RGB pixels, each (height, width, 3) uint8; ``fourcc``: what arrived.
    """
    from cyndilib.finder import Finder
    from cyndilib.receiver import Receiver
    from cyndilib.video_frame import VideoFrameSync
    from cyndilib.wrapper.ndi_recv import RecvBandwidth, RecvColorFormat

    finder = Finder()
    finder.open()
    try:
        source = _find(finder, name, FIND_S)
        if source is None:
            return None
        receiver = Receiver(color_format=RecvColorFormat.BGRX_BGRA, bandwidth=RecvBandwidth.highest)
        video = VideoFrameSync()
        receiver.frame_sync.set_video_frame(video)
        receiver.set_source(source)
        end = time.monotonic() + FIND_S
        while time.monotonic() < end:
            receiver.frame_sync.capture_video()
            if min(video.get_resolution()) > 0 and video.get_data_size() > 0:
                break
            time.sleep(POLL_S)
        else:
            return None
        print("connected", flush=True)
        frames: list[list[float]] = []
        kept: list[int] = []
        pictures: list[np.ndarray] = []
        last = None
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            receiver.frame_sync.capture_video()
            stamp = video.get_timestamp_posix()
            if stamp != last and video.get_data_size() > 0:
                last = stamp
                arrived = time.time()
                width, height = video.get_resolution()
                if len(frames) % keep_every == 0:
                    bgrx = np.array(video.get_array(), copy=True).reshape(height, width, 4)
                    pictures.append(bgrx[..., 2::-1].copy())
                    kept.append(len(frames))
                frames.append([stamp, arrived, width, height])
            time.sleep(POLL_S)
        fourcc = video.get_fourcc().name
        receiver.disconnect()
        return {"frames": frames, "kept": kept, "pictures": pictures, "fourcc": fourcc}
    finally:
        finder.close()


def main(argv: list[str] | None = None) -> int:
    """Run the receiver; see the module's text."""
    p = argparse.ArgumentParser(prog="ndi_peer", description=__doc__)
    p.add_argument("--source", default="ganterp", help="the source's name")
    p.add_argument("--seconds", type=float, default=5.0, help="how long to receive")
    p.add_argument("--out", type=Path, required=True, help="folder for the results")
    p.add_argument("--keep-every", type=int, default=15, help="keep every Nth frame's pixels")
    args = p.parse_args(argv)
    got = receive(args.source, args.seconds, max(1, args.keep_every))
    if got is None:
        print(f"ndi_peer: source {args.source!r} not found", file=sys.stderr)
        return 3
    args.out.mkdir(parents=True, exist_ok=True)
    pictures = got.pop("pictures")
    (args.out / "received.json").write_text(json.dumps(got))
    np.savez_compressed(args.out / "frames.npz", *pictures)
    print(f"received {len(got['frames'])} frames", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
