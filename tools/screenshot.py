"""Take a real screenshot of the show: ganterp in a window on Xvfb, grabbed from X.

python tools/screenshot.py --out docs/show.png [--at 14] [-- extra ganterp live flags]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from PIL import ImageGrab


def free_display() -> int:
    for n in range(90, 200):
        if not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise SystemExit("no free X display number")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--out", type=Path, default=Path("docs/show.png"))
    p.add_argument("--at", type=float, default=14.0, help="seconds into the show")
    p.add_argument("--size", default="1280x720")
    p.add_argument("extra", nargs="*", help="more flags for ganterp live")
    args = p.parse_args()
    n = free_display()
    xvfb = subprocess.Popen(
        ["Xvfb", f":{n}", "-screen", "0", f"{args.size}x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not Path(f"/tmp/.X11-unix/X{n}").exists():
            time.sleep(0.05)
        env = {**os.environ, "DISPLAY": f":{n}"}
        env.pop("SDL_VIDEODRIVER", None)
        show = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ganterp.live",
                "live",
                "--input",
                "demo",
                "--hud",
                "--fullscreen",
                "--seconds",
                str(args.at + 2),
                *args.extra,
            ],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert show.stdout is not None
        for line in show.stdout:
            if "keys:" in line:
                break
        time.sleep(args.at)
        ImageGrab.grab(xdisplay=f":{n}").save(args.out)
        show.wait(timeout=60)
        print(f"wrote {args.out}")
    finally:
        xvfb.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
